using System.Reflection;
using Fleet.Web.Components;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Web.Tests.Account;

public sealed class RoutesTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    // The route -> policy table of issue 7: the admin pages, the anonymous account pages, every other page View.
    private static readonly Dictionary<string, string> AdminPages = new(StringComparer.Ordinal)
    {
        ["/alerts/channels"] = FleetPolicies.Administer,
        ["/admin/users"] = FleetPolicies.Administer,
        ["/admin/agents"] = FleetPolicies.Administer,
    };

    private static readonly string[] AnonymousPages = [AccountRoutes.SignInPage, AccountRoutes.AccessDeniedPage, AccountRoutes.SetupPage + "/{Token}"];

    [Fact]
    public void EveryPage_NamesThePolicyOfTheRouteTable()
    {
        var pages = FleetWebAssembly.Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => (Type: t, r.Template)))
            .ToList();
        Assert.Contains(pages, p => p.Template == "/");

        foreach (var (type, template) in pages)
        {
            var authorize = type.GetCustomAttributes<AuthorizeAttribute>(inherit: true).ToList();
            var policies = authorize.Select(a => a.Policy).ToHashSet();
            bool anonymous = type.GetCustomAttribute<AllowAnonymousAttribute>() is not null;
            if (AnonymousPages.Contains(template))
            {
                Assert.True(anonymous, $"{template} must allow anonymous users");
                Assert.Empty(authorize);
                continue;
            }
            Assert.False(anonymous, $"{template} must not allow anonymous users");
            if (template == "/account")
            {
                // Anyone signed in manages their own API tokens.
                Assert.Equal([null], policies);
                continue;
            }
            string strongest = AdminPages.GetValueOrDefault(template, FleetPolicies.View);
            Assert.True(policies.Contains(strongest), $"{template} must require {strongest}; it requires {string.Join(", ", policies)}");
            Assert.All(policies, p => Assert.Contains(p, new[] { FleetPolicies.View, strongest }));
        }
        Assert.All(AdminPages.Keys, p => Assert.Contains(p, pages.Select(x => x.Template)));
    }

    // The layout renders MudBlazor's providers itself: a bare context, with the channel page's store.
    private static BunitContext Context(string uri, string? role, string userName = "alice")
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddFleetWeb();
        ctx.Services.AddSingleton<INotificationChannels>(new FakeChannels(TimeProvider.System));
        ctx.Services.AddSingleton<IAlertRules>(new FakeAlertRules(TimeProvider.System));
        if (role is null)
        {
            ctx.SignOut();
        }
        else
        {
            ctx.SignInAs(role, userName);
        }
        ctx.Renderer.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        ctx.Services.GetRequiredService<NavigationManager>().NavigateTo(uri);
        return ctx;
    }

    [Fact]
    public async Task Viewer_OnAnAdminPage_SeesTheirRoleMayNotSeeIt()
    {
        await using var ctx = Context("/alerts/channels", FleetRoles.Viewer, "victor");

        var cut = ctx.Render<Routes>();

        cut.WaitForAssertion(() => Assert.Contains("Your role (viewer) may not see this page", cut.Find("[data-testid=access-denied]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Empty(cut.FindAll("[data-testid=channels-table]"));
    }

    [Fact]
    public async Task Admin_OnAnAdminPage_SeesIt()
    {
        await using var ctx = Context("/alerts/channels", FleetRoles.Admin);

        var cut = ctx.Render<Routes>();

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=channel-new]")), Wait);
        Assert.Empty(cut.FindAll("[data-testid=access-denied]"));
    }

    [Fact]
    public async Task NotSignedIn_IsSentToSignInWithTheWayBack()
    {
        await using var ctx = Context("/alerts/rules?rule=3", role: null);
        var navigation = ctx.Services.GetRequiredService<NavigationManager>();

        ctx.Render<Routes>();

        Assert.Equal("http://localhost/signin?returnUrl=%2Falerts%2Frules%3Frule%3D3", navigation.Uri);
    }
}
