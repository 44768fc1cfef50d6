using System.Security.Claims;
using System.Text.Encodings.Web;
using Fleet.Server.Access;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Tests.Infrastructure;

/// <summary>
/// For tests of one API's behaviour (not of sign-in): a request names its role in <see cref="RoleHeader"/> and its
/// user in <see cref="UserHeader"/>, and is signed in as that; without the header it is anonymous. The policies are
/// the real ones (<see cref="FleetPolicies.Register"/>), so a route's policy is still enforced. Sign-in itself is
/// tested through the real cookie and API-token schemes (tests/Fleet.Server.Tests/Access).
/// </summary>
internal static class TestSignIn
{
    public const string Scheme = "Test";
    public const string RoleHeader = "X-Test-Role";
    public const string UserHeader = "X-Test-User";

    /// <summary>The user name tests sign in as unless they name another.</summary>
    public const string DefaultUser = "tester";

    /// <summary>Authentication by the test headers as the default scheme, the Fleet policies, and the server's own
    /// signed-in actor (so the audit log names the request's user, as in the server).</summary>
    public static IServiceCollection AddTestSignIn(this IServiceCollection services)
    {
        services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, HeaderHandler>(Scheme, null);
        services.AddAuthorization(FleetPolicies.Register);
        services.AddHttpContextAccessor();
        services.RemoveAll<IActorAccessor>();
        services.AddScoped<IActorAccessor, SignedInActor>();
        return services;
    }

    /// <summary>Makes the test scheme the default of an app whose own schemes are registered (the whole server).</summary>
    public static IServiceCollection UseTestSignInAsDefault(this IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, HeaderHandler>(Scheme, null);
        services.PostConfigure<AuthenticationOptions>(o =>
        {
            o.DefaultScheme = Scheme;
            o.DefaultAuthenticateScheme = Scheme;
            o.DefaultChallengeScheme = Scheme;
            o.DefaultForbidScheme = Scheme;
        });
        return services;
    }

    public static WebApplication UseTestSignIn(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    /// <summary>Every request of <paramref name="client"/> is signed in with <paramref name="role"/>.</summary>
    public static HttpClient As(this HttpClient client, string role, string user = DefaultUser)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.DefaultRequestHeaders.Remove(RoleHeader);
        client.DefaultRequestHeaders.Remove(UserHeader);
        client.DefaultRequestHeaders.Add(RoleHeader, role);
        client.DefaultRequestHeaders.Add(UserHeader, user);
        return client;
    }

    private sealed class HeaderHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            string? role = Request.Headers[RoleHeader];
            if (string.IsNullOrEmpty(role))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }
            string user = Request.Headers[UserHeader].FirstOrDefault() ?? DefaultUser;
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user), new Claim(ClaimTypes.Role, role)], TestSignIn.Scheme);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), TestSignIn.Scheme)));
        }
    }
}
