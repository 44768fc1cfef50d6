using Fleet.Web;
using Fleet.Web.Components;

namespace Fleet.Server.Hosting;

/// <summary>The Blazor UI (interactive server rendering) of the web project, served on the HTTP endpoint.</summary>
public static class WebUiHosting
{
    public static WebApplicationBuilder AddFleetUi(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Run from bin/ outside Development, the UI's static files (blazor.web.js, MudBlazor's css and js) are only
        // found through the static web assets manifest; a published server has them under wwwroot instead.
        builder.WebHost.UseStaticWebAssets();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddFleetWeb();
        return builder;
    }

    public static WebApplication MapFleetUi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // After UseAccess (authentication and authorization), as antiforgery tokens are bound to the signed-in user.
        app.UseAntiforgery();
        // Stylesheets and scripts of every page, the sign-in page included.
        app.MapStaticAssets().AllowAnonymous();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
