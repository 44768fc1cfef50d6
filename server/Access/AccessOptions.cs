using Fleet.Web.Data;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Access;

/// <summary>Sign-in settings (configuration section <c>Fleet:Auth</c>), validated at start.</summary>
public sealed class AccessOptions
{
    public const string Section = "Fleet:Auth";

    /// <summary>Sign-in form posts one client address may make per minute (the rest are refused as throttled).</summary>
    public int SignInPermitsPerMinute { get; set; } = 10;

    /// <summary>First-administrator setup posts one client address may make per minute.</summary>
    public int SetupPermitsPerMinute { get; set; } = 5;

    /// <summary>Failed passwords in a row before the account is locked (ASP.NET Core Identity lockout).</summary>
    public int LockoutFailures { get; set; } = 5;

    /// <summary>How long a locked account stays locked.</summary>
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a session lasts without use (sliding).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Minimum password length (no composition rules: NIST SP 800-63B).</summary>
    public int MinPasswordLength { get; set; } = 12;

    /// <summary>OpenID Connect sign-in; off while <see cref="OidcOptions.Authority"/> is empty.</summary>
    public OidcOptions Oidc { get; set; } = new();

    /// <summary>The window the per-minute permits count in. Not a setting: tests lengthen it so no window ends mid-test.</summary>
    internal TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>OpenID Connect sign-in (<c>Fleet:Auth:Oidc</c>): the authorization code flow with PKCE.</summary>
public sealed class OidcOptions
{
    /// <summary>The issuer (its discovery document is <c>{Authority}/.well-known/openid-configuration</c>).</summary>
    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>The provider's name on the sign-in page and in each user's Source.</summary>
    public string DisplayName { get; set; } = "Single sign-on";

    /// <summary>Space-separated scopes besides openid (default "profile email").</summary>
    public string Scopes { get; set; } = "profile email";

    /// <summary>The claim of the ID token that carries roles or groups.</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>Values of <see cref="RoleClaim"/> that make a user admin (comma-separated).</summary>
    public string? AdminValues { get; set; }

    /// <summary>Values of <see cref="RoleClaim"/> that make a user operator (comma-separated).</summary>
    public string? OperatorValues { get; set; }

    /// <summary>The role of a user whose claim names none of the values above.</summary>
    public string DefaultRole { get; set; } = FleetRoles.Viewer;

    /// <summary>Where the provider sends the browser back (handled by the OpenID Connect handler).</summary>
    public string CallbackPath { get; set; } = "/signin-oidc";

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);

    internal static IReadOnlyList<string> Split(string? values) =>
        string.IsNullOrWhiteSpace(values) ? [] : values.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

internal sealed class ValidateAccessOptions : IValidateOptions<AccessOptions>
{
    public ValidateOptionsResult Validate(string? name, AccessOptions options)
    {
        const string S = AccessOptions.Section;
        var errors = new List<string>();
        if (options.SignInPermitsPerMinute is < 1 or > 10_000)
        {
            errors.Add($"{S}:SignInPermitsPerMinute: between 1 and 10000 (got {options.SignInPermitsPerMinute})");
        }
        if (options.SetupPermitsPerMinute is < 1 or > 10_000)
        {
            errors.Add($"{S}:SetupPermitsPerMinute: between 1 and 10000 (got {options.SetupPermitsPerMinute})");
        }
        if (options.LockoutFailures is < 1 or > 100)
        {
            errors.Add($"{S}:LockoutFailures: between 1 and 100 (got {options.LockoutFailures})");
        }
        if (options.LockoutDuration < TimeSpan.FromSeconds(1) || options.LockoutDuration > TimeSpan.FromDays(1))
        {
            errors.Add($"{S}:LockoutDuration: between 00:00:01 and 1.00:00:00 (got {options.LockoutDuration})");
        }
        if (options.SessionLifetime < TimeSpan.FromMinutes(5) || options.SessionLifetime > TimeSpan.FromDays(30))
        {
            errors.Add($"{S}:SessionLifetime: between 00:05:00 and 30.00:00:00 (got {options.SessionLifetime})");
        }
        if (options.MinPasswordLength is < 8 or > 128)
        {
            errors.Add($"{S}:MinPasswordLength: between 8 and 128 (got {options.MinPasswordLength})");
        }
        ValidateOidc(options.Oidc, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateOidc(OidcOptions oidc, List<string> errors)
    {
        const string S = AccessOptions.Section + ":Oidc";
        if (!oidc.Enabled)
        {
            if (!string.IsNullOrWhiteSpace(oidc.ClientId))
            {
                errors.Add($"{S}:Authority: required when {S}:ClientId is set (the issuer URL, such as https://login.example.com/realms/ops)");
            }
            return;
        }
        if (!Uri.TryCreate(oidc.Authority, UriKind.Absolute, out var authority)
            || (authority.Scheme != Uri.UriSchemeHttps && !(authority.Scheme == Uri.UriSchemeHttp && authority.IsLoopback)))
        {
            errors.Add($"{S}:Authority: '{oidc.Authority}' is not an absolute https:// URL (plain http only on loopback)");
        }
        if (string.IsNullOrWhiteSpace(oidc.ClientId))
        {
            errors.Add($"{S}:ClientId: required when {S}:Authority is set");
        }
        if (string.IsNullOrWhiteSpace(oidc.DisplayName) || oidc.DisplayName.Length > 64)
        {
            errors.Add($"{S}:DisplayName: 1 to 64 characters (got '{oidc.DisplayName}')");
        }
        if (string.IsNullOrWhiteSpace(oidc.RoleClaim))
        {
            errors.Add($"{S}:RoleClaim: the name of the claim with roles or groups (default \"roles\")");
        }
        if (!FleetRoles.IsKnown(oidc.DefaultRole))
        {
            errors.Add($"{S}:DefaultRole: one of {string.Join(", ", FleetRoles.All)} (got '{oidc.DefaultRole}')");
        }
        if (string.IsNullOrWhiteSpace(oidc.CallbackPath) || !oidc.CallbackPath.StartsWith('/'))
        {
            errors.Add($"{S}:CallbackPath: a path starting with '/' (got '{oidc.CallbackPath}')");
        }
        foreach (string scope in OidcOptions.Split(oidc.Scopes))
        {
            if (!scope.All(c => c > ' ' && c < 127 && c is not '"' and not '\\'))
            {
                errors.Add($"{S}:Scopes: '{scope}' is not a valid scope name");
            }
        }
    }
}
