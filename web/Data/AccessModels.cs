using Microsoft.AspNetCore.Authorization;

namespace Fleet.Web.Data;

/// <summary>
/// The three roles. Each includes the one before it: a viewer reads everything; an operator also exports snapshots
/// and silences alerts; an admin also edits alert rules, notification channels, users and agent enrollment.
/// A user has exactly one of them.
/// </summary>
public static class FleetRoles
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";
    public const string Admin = "admin";

    /// <summary>Weakest first.</summary>
    public static IReadOnlyList<string> All { get; } = [Viewer, Operator, Admin];

    public static bool IsKnown(string? role) => role is Viewer or Operator or Admin;

    /// <summary>Viewer 1, operator 2, admin 3; 0 for anything else.</summary>
    public static int Rank(string? role) => role switch
    {
        Viewer => 1,
        Operator => 2,
        Admin => 3,
        _ => 0,
    };

    /// <summary>The roles that may do what <paramref name="least"/> may (it and the stronger ones).</summary>
    public static string[] AtLeast(string least) => [.. All.Where(r => Rank(r) >= Rank(least))];
}

/// <summary>
/// The authorization policies every page, API route and hub method names (the server registers them): each is
/// "signed in with at least this role".
/// </summary>
public static class FleetPolicies
{
    /// <summary>Viewer, operator or admin: every read.</summary>
    public const string View = "fleet:view";

    /// <summary>Operator or admin: export and import snapshots, silence alerts.</summary>
    public const string Operate = "fleet:operate";

    /// <summary>Admin: alert rules, notification channels, agent configuration, users, enrollment tokens.</summary>
    public const string Administer = "fleet:administer";

    /// <summary>Adds the three policies: signed in, with a role claim of at least the named role. They name no
    /// authentication scheme, so the default scheme (cookie or API token) decides who is signed in.</summary>
    public static void Register(AuthorizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AddPolicy(View, p => p.RequireAuthenticatedUser().RequireRole(FleetRoles.AtLeast(FleetRoles.Viewer)));
        options.AddPolicy(Operate, p => p.RequireAuthenticatedUser().RequireRole(FleetRoles.AtLeast(FleetRoles.Operator)));
        options.AddPolicy(Administer, p => p.RequireAuthenticatedUser().RequireRole(FleetRoles.AtLeast(FleetRoles.Admin)));
    }
}

/// <summary>
/// The form posts the sign-in pages make (static server-rendered forms with an antiforgery token; the server maps
/// these endpoints and redirects back to the page with <see cref="ErrorQuery"/> set when it refuses).
/// </summary>
public static class AccountRoutes
{
    /// <summary>The sign-in page; <c>?returnUrl=</c> is where to go after.</summary>
    public const string SignInPage = "/signin";

    /// <summary>Shown to a signed-in user who lacks the role for a page.</summary>
    public const string AccessDeniedPage = "/access-denied";

    /// <summary>The first administrator's page: <c>/setup/{token}</c>, the token printed in the log on first run.</summary>
    public const string SetupPage = "/setup";

    /// <summary>POST fields <c>userName</c>, <c>password</c>, <c>returnUrl</c>.</summary>
    public const string SignInPost = "/account/signin";

    /// <summary>POST (no fields but antiforgery): signs out and goes to the sign-in page.</summary>
    public const string SignOutPost = "/account/signout";

    /// <summary>POST fields <c>token</c>, <c>userName</c>, <c>password</c>, <c>confirmPassword</c>.</summary>
    public const string SetupPost = "/account/setup";

    /// <summary>GET <c>?returnUrl=</c>: starts OpenID Connect sign-in, when configured.</summary>
    public const string ExternalSignIn = "/account/oidc";

    /// <summary>The query key carrying why a form was refused: "invalid", "locked", "throttled", "disabled", or a message.</summary>
    public const string ErrorQuery = "error";
}

/// <summary>What the sign-in page shows besides the form.</summary>
public sealed record SignInChoices(string? ExternalProviderName);

/// <summary>What the sign-in page needs to know from the server (whether OpenID Connect is configured).</summary>
public interface ISignInChoices
{
    SignInChoices Current { get; }
}

/// <summary>A secret shown once, when made (an API or enrollment token); only its hash is kept.</summary>
public sealed record NewSecret(long Id, string Name, string Secret);

/// <summary>A user as the admin page lists it. <see cref="Source"/> is "local" or the external provider's name.</summary>
public sealed record UserView(
    string Id,
    string UserName,
    string Role,
    bool Disabled,
    string Source,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastSignInAt,
    bool LockedOut);

/// <summary>Users and their roles (admin only). Every change is audited under <c>actor</c>.</summary>
public interface IUserAdmin
{
    Task<IReadOnlyList<UserView>> ListAsync(CancellationToken ct);

    /// <exception cref="AccessInvalidException">Bad name, weak password, unknown role, name taken.</exception>
    Task<UserView> CreateAsync(string userName, string password, string role, string actor, CancellationToken ct);

    /// <summary>Null when no such user. Refuses (AccessInvalidException) to take the last enabled admin's role.</summary>
    Task<UserView?> SetRoleAsync(string userId, string role, string actor, CancellationToken ct);

    /// <summary>Null when no such user (a local one). The user's sessions and API tokens stay; the old password does not.</summary>
    Task<UserView?> SetPasswordAsync(string userId, string password, string actor, CancellationToken ct);

    /// <summary>A disabled user cannot sign in, their sessions end within a minute and their API tokens stop working.
    /// Refuses to disable the last enabled admin.</summary>
    Task<UserView?> SetDisabledAsync(string userId, bool disabled, string actor, CancellationToken ct);

    /// <summary>Refuses to delete the last enabled admin. Deletes the user's API tokens with them.</summary>
    Task<bool> DeleteAsync(string userId, string actor, CancellationToken ct);
}

/// <summary>A personal API token as its owner sees it (the secret is never shown again).</summary>
public sealed record ApiTokenView(
    long Id,
    string Name,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt);

/// <summary>
/// Personal API tokens for scripts: <c>Authorization: Bearer fleet_pat_...</c> on the API, or <c>?access_token=</c>
/// on the hub. A token acts with its owner's current role. Users see and revoke their own; every change is audited.
/// </summary>
public interface IApiTokens
{
    Task<IReadOnlyList<ApiTokenView>> ListAsync(string userId, CancellationToken ct);

    /// <param name="lifetime">Null: never expires.</param>
    /// <exception cref="AccessInvalidException">Bad name or lifetime.</exception>
    Task<NewSecret> CreateAsync(string userId, string name, TimeSpan? lifetime, string actor, CancellationToken ct);

    /// <summary>False when the user has no such token.</summary>
    Task<bool> RevokeAsync(string userId, long tokenId, string actor, CancellationToken ct);
}

/// <summary>An enrollment token as the admin page lists it (never the token or its hash).</summary>
public sealed record EnrollmentTokenView(
    long Id,
    string Name,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    DateTimeOffset? RevokedAt,
    int Agents);

/// <summary>An agent as the admin page lists it: which host, version, address, last seen, the token it enrolled with.</summary>
public sealed record AgentView(
    string AgentId,
    string HostName,
    string Version,
    string? PeerAddress,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    long? TokenId,
    string? TokenName,
    bool TokenRevoked,
    bool Connected);

/// <summary>Agent enrollment (admin only). Revoking a token cuts the streams of the agents using it at once, and
/// they are refused when they reconnect. Every change is audited under <c>actor</c>.</summary>
public interface IEnrollmentAdmin
{
    Task<IReadOnlyList<EnrollmentTokenView>> ListTokensAsync(CancellationToken ct);

    /// <exception cref="AccessInvalidException">Bad name.</exception>
    Task<NewSecret> CreateTokenAsync(string name, string actor, CancellationToken ct);

    /// <summary>False when no such token; true also when it was revoked already.</summary>
    Task<bool> RevokeTokenAsync(long tokenId, string actor, CancellationToken ct);

    /// <summary>Every agent, the most recently seen first.</summary>
    Task<IReadOnlyList<AgentView>> ListAgentsAsync(CancellationToken ct);
}

/// <summary>A refused user, token or role change: each problem under its field ("userName", "password", "role", "name").</summary>
public sealed class AccessInvalidException : Exception
{
    public AccessInvalidException(IReadOnlyDictionary<string, string[]> errors)
        : base(string.Join("; ", (errors ?? throw new ArgumentNullException(nameof(errors))).SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))))
    {
        Errors = errors;
    }

    public AccessInvalidException(string field, string message)
        : this(new Dictionary<string, string[]> { [field] = [message] })
    {
    }

    public AccessInvalidException()
        : this(new Dictionary<string, string[]>())
    {
    }

    public AccessInvalidException(string message)
        : this("", message)
    {
    }

    public AccessInvalidException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = new Dictionary<string, string[]> { [""] = [message] };
    }

    public IReadOnlyDictionary<string, string[]> Errors { get; }
}
