using System.Security.Claims;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Components.Authorization;

namespace Fleet.Server.Access;

/// <summary>
/// The signed-in user as the audit log names them: in a Blazor circuit from its (completed) authentication state,
/// in an HTTP request from the request's user; an API token call names the token too ("alice (token ci-script)").
/// </summary>
internal sealed class SignedInActor(IHttpContextAccessor http, IServiceProvider services) : IActorAccessor
{
    public const string Unknown = "anonymous";

    public string CurrentActor()
    {
        if (FromCircuit() is { } circuitUser)
        {
            return Describe(circuitUser);
        }
        return http.HttpContext?.User is { Identity.IsAuthenticated: true } user ? Describe(user) : Unknown;
    }

    private ClaimsPrincipal? FromCircuit()
    {
        if (services.GetService(typeof(AuthenticationStateProvider)) is not AuthenticationStateProvider provider)
        {
            return null;
        }
        try
        {
            var state = provider.GetAuthenticationStateAsync();
            return state.IsCompletedSuccessfully && state.Result.User.Identity?.IsAuthenticated == true ? state.Result.User : null;
        }
        catch (InvalidOperationException)
        {
            // Outside a circuit or a rendered page the provider has no state: the HTTP request's user applies.
            return null;
        }
    }

    public static string Describe(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        string name = user.Identity?.Name ?? user.FindFirstValue(ClaimTypes.NameIdentifier) ?? Unknown;
        return user.FindFirstValue(ApiTokenAuthenticationHandler.TokenNameClaim) is { } token ? $"{name} (token {token})" : name;
    }
}
