using Fleet.Web.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;

namespace Fleet.Web.Components.Account;

/// <summary>
/// The check an event handler makes before it changes anything: a hidden button is no guard (a circuit can invoke a
/// handler the page did not show), so the handler asks the same policy the server's API route does.
/// </summary>
public static class PolicyCheck
{
    /// <summary>Null when the signed-in user passes <paramref name="policy"/>; else why not, in words
    /// ("Your role (viewer) may not change alert rules: admins only.").</summary>
    public static async Task<string?> RefusalAsync(this IAuthorizationService authorization, Task<AuthenticationState>? authState, string policy, string what)
    {
        ArgumentNullException.ThrowIfNull(authorization);
        if (authState is null)
        {
            return $"Not signed in: nobody may {what}.";
        }
        var user = (await authState).User;
        if ((await authorization.AuthorizeAsync(user, policy)).Succeeded)
        {
            return null;
        }
        return user.Identity?.IsAuthenticated == true
            ? $"Your role ({AccountTexts.RoleText(user)}) may not {what}: {AccountTexts.PolicyRoles(policy)} only."
            : $"Not signed in: sign in to {what}.";
    }
}
