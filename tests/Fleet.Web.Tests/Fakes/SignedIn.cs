using System.Runtime.CompilerServices;
using System.Security.Claims;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Web.Tests.Fakes;

/// <summary>
/// Signs a user into a bUnit context with one of Fleet's roles. The policies are ASP.NET Core's real authorization
/// with Fleet's rule ("signed in with at least this role", as the server registers them): bUnit's fake authorization
/// grants a page with two [Authorize] attributes when either passes, which would hide a missing admin check.
/// The first call registers the services (before the first render); later calls change the user, also after render.
/// </summary>
public static class SignedIn
{
    private static readonly ConditionalWeakTable<BunitContext, SwitchableAuthState> States = [];

    public static void SignInAs(this BunitContext ctx, string role, string userName = "alice") =>
        State(ctx).Set(User(role, userName));

    /// <summary>The user id a signed-in test user carries (Identity's NameIdentifier claim).</summary>
    public static string IdOf(string userName) => $"id-{userName}";

    /// <summary>Nobody signed in.</summary>
    public static void SignOut(this BunitContext ctx) => State(ctx).Set(new ClaimsPrincipal(new ClaimsIdentity()));

    public static ClaimsPrincipal User(string role, string userName) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, IdOf(userName)), new Claim(ClaimTypes.Name, userName), new Claim(ClaimTypes.Role, role)], "test"));

    /// <summary>Fleet's policies, as the server registers them: each is "signed in with at least this role".</summary>
    public static void AddFleetPolicies(AuthorizationOptions options)
    {
        FleetPolicies.Register(options);
    }

    private static SwitchableAuthState State(BunitContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        return States.GetValue(ctx, c =>
        {
            var state = new SwitchableAuthState();
            c.Services.AddAuthorizationCore(AddFleetPolicies);
            // bUnit registers placeholders that refuse to authorize; the real ones replace them.
            c.Services.AddTransient<IAuthorizationService, DefaultAuthorizationService>();
            c.Services.AddTransient<IAuthorizationPolicyProvider, DefaultAuthorizationPolicyProvider>();
            c.Services.AddSingleton<AuthenticationStateProvider>(state);
            return state;
        });
    }

    private sealed class SwitchableAuthState : AuthenticationStateProvider
    {
        private Task<AuthenticationState> _state = Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity())));

        public override Task<AuthenticationState> GetAuthenticationStateAsync() => _state;

        public void Set(ClaimsPrincipal user)
        {
            _state = Task.FromResult(new AuthenticationState(user));
            NotifyAuthenticationStateChanged(_state);
        }
    }
}
