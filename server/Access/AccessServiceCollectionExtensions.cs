using System.Threading.RateLimiting;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Access;

/// <summary>
/// Sign-in and authorization: ASP.NET Core Identity on PostgreSQL (users, one role each, lockout), its application
/// cookie for the pages, personal API tokens for scripts, an optional OpenID Connect provider, the three role
/// policies and a fallback that makes everything unannotated need sign-in.
/// </summary>
public static class AccessServiceCollectionExtensions
{
    /// <summary>The rate limiter policies of the account form posts (partitioned by client address).</summary>
    public const string SignInRateLimit = "fleet:signin";

    public const string SetupRateLimit = "fleet:setup";

    /// <summary>
    /// Identity's user store and manager, <see cref="IUserAdmin"/> and <see cref="IApiTokens"/>, without any web
    /// part: the command line uses this. Needs storage (the FleetDbContext factory). Options: <c>Fleet:Auth</c>.
    /// </summary>
    public static IServiceCollection AddAccessCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<AccessOptions>().Bind(configuration.GetSection(AccessOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AccessOptions>, ValidateAccessOptions>());
        services.TryAddSingleton(TimeProvider.System);
        // Identity's EF stores take the context from the scope: one from storage's pool per scope.
        services.TryAddScoped(sp => sp.GetRequiredService<IDbContextFactory<FleetDbContext>>().CreateDbContext());
        services.AddIdentityCore<FleetUserEntity>()
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<FleetDbContext>();
        services.AddOptions<IdentityOptions>().Configure<IOptions<AccessOptions>>((o, access) => ConfigureIdentity(o, access.Value));
        services.TryAddSingleton<IUserAdmin, IdentityUserAdmin>();
        services.TryAddSingleton<IApiTokens, PostgresApiTokens>();
        return services;
    }

    private static void ConfigureIdentity(IdentityOptions o, AccessOptions access)
    {
        // NIST SP 800-63B: length, no composition rules.
        o.Password.RequiredLength = access.MinPasswordLength;
        o.Password.RequireDigit = false;
        o.Password.RequireLowercase = false;
        o.Password.RequireUppercase = false;
        o.Password.RequireNonAlphanumeric = false;
        o.Password.RequiredUniqueChars = 1;
        o.Lockout.AllowedForNewUsers = true;
        o.Lockout.MaxFailedAccessAttempts = access.LockoutFailures;
        o.Lockout.DefaultLockoutTimeSpan = access.LockoutDuration;
        o.User.RequireUniqueEmail = false;
        o.SignIn.RequireConfirmedAccount = false;
        o.SignIn.RequireConfirmedEmail = false;
    }

    /// <summary>
    /// Everything of sign-in for the web host: <see cref="AddAccessCore"/>, Identity's cookies, the API token
    /// scheme, the default policy scheme choosing between them, OpenID Connect when configured, the policies of
    /// <see cref="FleetPolicies"/> and the fallback (<see cref="FleetPolicies.View"/>), the sign-in rate limits, the
    /// first administrator's setup link, the signed-in <see cref="IActorAccessor"/> and the circuits' revalidation.
    /// </summary>
    public static IServiceCollection AddAccess(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddAccessCore(configuration);
        services.AddHttpContextAccessor();
        new IdentityBuilder(typeof(FleetUserEntity), typeof(IdentityRole), services).AddSignInManager<FleetSignInManager>();

        var authentication = services.AddAuthentication(o =>
        {
            o.DefaultScheme = FleetAuthenticationSchemes.Default;
            o.DefaultChallengeScheme = FleetAuthenticationSchemes.Default;
            o.DefaultForbidScheme = FleetAuthenticationSchemes.Default;
        });
        authentication.AddPolicyScheme(FleetAuthenticationSchemes.Default, "Fleet: API token or session cookie", o =>
            o.ForwardDefaultSelector = FleetAuthenticationSchemes.Select);
        authentication.AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(
            ApiTokenAuthenticationHandler.SchemeName, "Personal API token", null);
        authentication.AddIdentityCookies();
        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme)
            .Configure<IOptions<AccessOptions>>((o, access) => ConfigureSessionCookie(o, access.Value));
        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ExternalScheme).Configure(o =>
        {
            o.Cookie.Name = "fleet.external";
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
        });
        // Role changes and disabling reach open sessions within a minute (the stamp check rebuilds the principal).
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "fleet.af";
            o.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
            o.HeaderName = AntiforgeryHeader;
        });
        OidcSignIn.Add(authentication, services, configuration);
        var dataProtection = services.AddDataProtection().SetApplicationName("fleet");
        if (configuration[$"{AccessOptions.Section}:KeysDirectory"] is { Length: > 0 } keys && Path.IsPathFullyQualified(keys))
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(keys));
        }

        services.AddAuthorization(o =>
        {
            FleetPolicies.Register(o);
            // Anything that names no policy needs a viewer: nothing is left open by accident.
            o.FallbackPolicy = o.GetPolicy(FleetPolicies.View);
        });

        services.AddRateLimiter(ConfigureRateLimits);

        services.TryAddSingleton<AccessAudit>();
        services.TryAddSingleton<FirstAdminSetup>();
        services.AddHostedService<FirstAdminAnnouncer>();
        services.TryAddSingleton<ISignInChoices, SignInChoicesFromOptions>();
        // The signed-in actor replaces the anonymous one whichever was registered first.
        services.RemoveAll<IActorAccessor>();
        services.AddScoped<IActorAccessor, SignedInActor>();
        services.AddScoped<AuthenticationStateProvider, RevalidatingAuthenticationState>();
        return services;
    }

    /// <summary>The header carrying the antiforgery token on unsafe API calls made with the session cookie.</summary>
    public const string AntiforgeryHeader = "X-CSRF-TOKEN";

    private static void ConfigureSessionCookie(CookieAuthenticationOptions o, AccessOptions access)
    {
        o.Cookie.Name = "fleet.auth";
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = SameSiteMode.Lax;
        o.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
        o.ExpireTimeSpan = access.SessionLifetime;
        o.SlidingExpiration = true;
        o.LoginPath = AccountRoutes.SignInPage;
        o.AccessDeniedPath = AccountRoutes.AccessDeniedPage;
        o.ReturnUrlParameter = "returnUrl";
        // The API and the hub answer with a status; only pages redirect to the sign-in page.
        o.Events.OnRedirectToLogin = context => StatusOrRedirect(context, StatusCodes.Status401Unauthorized);
        o.Events.OnRedirectToAccessDenied = context => StatusOrRedirect(context, StatusCodes.Status403Forbidden);
    }

    private static Task StatusOrRedirect(Microsoft.AspNetCore.Authentication.RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (IsApiOrHub(context.Request))
        {
            context.Response.StatusCode = status;
        }
        else
        {
            context.Response.Redirect(context.RedirectUri);
        }
        return Task.CompletedTask;
    }

    internal static bool IsApiOrHub(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/hubs");

    private static void ConfigureRateLimits(RateLimiterOptions o)
    {
        o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        o.AddPolicy(SignInRateLimit, context => PerClient(context, a => a.SignInPermitsPerMinute));
        o.AddPolicy(SetupRateLimit, context => PerClient(context, a => a.SetupPermitsPerMinute));
        o.OnRejected = AccountEndpoints.OnThrottledAsync;
    }

    private static RateLimitPartition<string> PerClient(HttpContext context, Func<AccessOptions, int> permits)
    {
        var access = context.RequestServices.GetRequiredService<IOptions<AccessOptions>>().Value;
        string client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits(access),
            Window = access.RateLimitWindow,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    /// <summary>
    /// The access middleware, in order: security headers (and HSTS on https), authentication, authorization, the
    /// sign-in rate limits, and the antiforgery check of unsafe API calls made with the session cookie. Call before
    /// <c>UseAntiforgery</c> (which validates the form posts and needs the signed-in user).
    /// </summary>
    public static WebApplication UseAccess(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<SecurityHeaders>();
        app.UseHsts();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseMiddleware<CookieApiAntiforgery>();
        return app;
    }

    /// <summary>The account form posts (<see cref="AccountRoutes"/>), /api/me, /api/me/tokens and /api/users.</summary>
    public static WebApplication MapAccess(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapAccountEndpoints();
        app.MapAccessApi();
        return app;
    }
}

/// <summary>
/// Unsafe API calls (POST, PUT, PATCH, DELETE under /api) authenticated by the session cookie must carry the
/// antiforgery token in the <see cref="AccessServiceCollectionExtensions.AntiforgeryHeader"/> header; calls with an
/// API token need none (a browser never adds one by itself).
/// </summary>
internal sealed class CookieApiAntiforgery(RequestDelegate next, IAntiforgery antiforgery)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path.StartsWithSegments("/api")
            && !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) || HttpMethods.IsOptions(context.Request.Method) || HttpMethods.IsTrace(context.Request.Method))
            && context.User.Identity is { IsAuthenticated: true, AuthenticationType: var type } && type == IdentityConstants.ApplicationScheme
            && !await antiforgery.IsRequestValidAsync(context).ConfigureAwait(false))
        {
            await Results.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Antiforgery token missing or invalid",
                detail: $"A call made with the session cookie must send the antiforgery token in the {AccessServiceCollectionExtensions.AntiforgeryHeader} header (GET /account/antiforgery gives it); scripts should use an API token instead.")
                .ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        await next(context).ConfigureAwait(false);
    }
}

/// <summary>The security headers of every response.</summary>
internal sealed class SecurityHeaders(RequestDelegate next)
{
    /// <summary>
    /// Blazor server and MudBlazor need inline styles and a WebSocket back to this server; Plotly draws with inline
    /// styles and SVG; nothing is loaded from elsewhere.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        + "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        return next(context);
    }
}
