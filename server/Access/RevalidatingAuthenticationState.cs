using System.Security.Claims;
using Fleet.Server.Storage.Entities;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Access;

/// <summary>
/// A Blazor circuit's authentication state, checked against the database every minute (like the Identity template's):
/// a disabled or deleted user, a changed security stamp or a changed role ends the circuit's signed-in state.
/// </summary>
internal sealed class RevalidatingAuthenticationState(
    ILoggerFactory loggerFactory,
    IServiceScopeFactory scopes,
    IOptions<IdentityOptions> identity) : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override TimeSpan RevalidationInterval => Interval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUserEntity>>();
        return await IsCurrentAsync(users, identity.Value, authenticationState.User).ConfigureAwait(false);
    }

    internal static async Task<bool> IsCurrentAsync(UserManager<FleetUserEntity> users, IdentityOptions options, ClaimsPrincipal principal)
    {
        var user = await users.GetUserAsync(principal).ConfigureAwait(false);
        if (user is null || user.DisabledAt is not null)
        {
            return false;
        }
        string? stamp = principal.FindFirstValue(options.ClaimsIdentity.SecurityStampClaimType);
        if (users.SupportsUserSecurityStamp && stamp != await users.GetSecurityStampAsync(user).ConfigureAwait(false))
        {
            return false;
        }
        var roles = await users.GetRolesAsync(user).ConfigureAwait(false);
        var claimed = principal.FindAll(options.ClaimsIdentity.RoleClaimType).Select(c => c.Value);
        return roles.Order(StringComparer.Ordinal).SequenceEqual(claimed.Order(StringComparer.Ordinal), StringComparer.Ordinal);
    }
}
