using System.Security.Claims;
using Fleet.Web.Data;

namespace Fleet.Web.Components.Account;

/// <summary>What the account pages and the layout say about the signed-in user, and where they link.</summary>
public static class AccountTexts
{
    /// <summary>The sign-in page, coming back to <paramref name="returnUrl"/> after (only a path on this site).</summary>
    public static string SignInHref(string? returnUrl)
    {
        string back = SafeReturnUrl(returnUrl);
        return back == "/" ? AccountRoutes.SignInPage : $"{AccountRoutes.SignInPage}?returnUrl={Uri.EscapeDataString(back)}";
    }

    /// <summary>A path on this site ("/hosts/web-1?range=1h"); anything else (another site, "//evil", a scheme, the
    /// account pages themselves, which would loop) becomes "/".</summary>
    public static string SafeReturnUrl(string? returnUrl)
    {
        if (string.IsNullOrWhiteSpace(returnUrl)
            || !returnUrl.StartsWith('/')
            || returnUrl.StartsWith("//", StringComparison.Ordinal)
            || returnUrl.StartsWith("/\\", StringComparison.Ordinal)
            || returnUrl.Any(char.IsControl))
        {
            return "/";
        }
        string path = returnUrl.Split('?', '#')[0];
        if (path.Equals(AccountRoutes.SignInPage, StringComparison.OrdinalIgnoreCase)
            || path.Equals(AccountRoutes.AccessDeniedPage, StringComparison.OrdinalIgnoreCase)
            || path.StartsWith(AccountRoutes.SetupPage + "/", StringComparison.OrdinalIgnoreCase)
            || path.StartsWith("/account/", StringComparison.OrdinalIgnoreCase))
        {
            return "/";
        }
        return returnUrl;
    }

    /// <summary>Why the server refused a sign-in, in words; a code it does not know is shown as the message it is.</summary>
    public static string? SignInError(string? error) => error switch
    {
        null or "" => null,
        "invalid" => "Wrong user name or password.",
        "locked" => "Too many failed attempts: try again in a few minutes.",
        "throttled" => "Too many sign-in attempts from here: wait a minute.",
        "disabled" => "This account is disabled: ask an administrator to enable it.",
        "external" => "The external sign-in did not complete: try again, or sign in with a user name and password.",
        _ => error,
    };

    /// <summary>Why the server refused to create the first administrator, in words.</summary>
    public static string? SetupError(string? error) => error switch
    {
        null or "" => null,
        "invalid" or "token" => "This setup link is not valid (any more): an administrator exists already, or the server printed a new link when it restarted.",
        "mismatch" => "The two passwords differ.",
        "throttled" => "Too many attempts from here: wait a minute.",
        _ => error,
    };

    /// <summary>The user's role (the strongest if several); null when they have none Fleet knows.</summary>
    public static string? RoleOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindAll(ClaimTypes.Role)
            .Select(c => c.Value)
            .Where(FleetRoles.IsKnown)
            .OrderByDescending(FleetRoles.Rank)
            .FirstOrDefault();
    }

    /// <summary>"viewer", or "no role" for a user without one.</summary>
    public static string RoleText(ClaimsPrincipal user) => RoleOf(user) ?? "no role";

    /// <summary>Who may do what a policy guards, in words.</summary>
    public static string PolicyRoles(string policy) => policy switch
    {
        FleetPolicies.View => "viewers, operators and admins",
        FleetPolicies.Operate => "operators and admins",
        FleetPolicies.Administer => "admins",
        _ => policy,
    };
}
