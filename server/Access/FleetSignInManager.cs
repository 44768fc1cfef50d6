using System.Security.Claims;
using Fleet.Server.Storage.Entities;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Access;

/// <summary>
/// Identity's sign-in manager with one rule added: a disabled user (<see cref="FleetUserEntity.DisabledAt"/>) may not
/// sign in, and the security stamp check (every minute in open sessions) rejects them too.
/// </summary>
internal sealed class FleetSignInManager(
    UserManager<FleetUserEntity> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<FleetUserEntity> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<FleetUserEntity>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<FleetUserEntity> confirmation)
    : SignInManager<FleetUserEntity>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    public override async Task<bool> CanSignInAsync(FleetUserEntity user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.DisabledAt is null && await base.CanSignInAsync(user).ConfigureAwait(false);
    }

    public override async Task<FleetUserEntity?> ValidateSecurityStampAsync(ClaimsPrincipal? principal)
    {
        var user = await base.ValidateSecurityStampAsync(principal).ConfigureAwait(false);
        return user is { DisabledAt: null } ? user : null;
    }
}
