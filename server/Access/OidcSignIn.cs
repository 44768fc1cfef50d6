using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Fleet.Server.Access;

/// <summary>
/// Optional OpenID Connect sign-in (<c>Fleet:Auth:Oidc</c>): the authorization code flow with PKCE into Identity's
/// external cookie; the callback finds or creates the local user linked by (provider, subject) through Identity's
/// external logins, sets the role from the claim mapping, and signs in with the application cookie.
/// </summary>
internal static partial class OidcSignIn
{
    public const string Scheme = "oidc";

    /// <summary>Where the handler sends the browser after the provider's callback; it completes the sign-in.</summary>
    public const string CompletePath = "/account/oidc/complete";

    public static void Add(AuthenticationBuilder authentication, IServiceCollection services, IConfiguration configuration)
    {
        // Registered only when configured; the settings themselves are validated with the other options at start.
        if (string.IsNullOrWhiteSpace(configuration[$"{AccessOptions.Section}:Oidc:Authority"]))
        {
            return;
        }
        authentication.AddOpenIdConnect(Scheme, _ => { });
        services.AddOptions<OpenIdConnectOptions>(Scheme).Configure<IOptions<AccessOptions>>((o, access) => Configure(o, access.Value.Oidc));
    }

    private static void Configure(OpenIdConnectOptions o, OidcOptions oidc)
    {
        o.Authority = oidc.Authority;
        o.ClientId = oidc.ClientId;
        o.ClientSecret = string.IsNullOrEmpty(oidc.ClientSecret) ? null : oidc.ClientSecret;
        o.ResponseType = OpenIdConnectResponseType.Code;
        // The code comes back on a top-level GET: SameSite=Lax cookies (correlation, nonce) are sent with it.
        o.ResponseMode = OpenIdConnectResponseMode.Query;
        o.UsePkce = true;
        o.SignInScheme = IdentityConstants.ExternalScheme;
        o.CallbackPath = oidc.CallbackPath;
        o.RequireHttpsMetadata = !(Uri.TryCreate(oidc.Authority, UriKind.Absolute, out var authority) && authority.Scheme == Uri.UriSchemeHttp && authority.IsLoopback);
        o.MapInboundClaims = false;
        o.SaveTokens = false;
        o.GetClaimsFromUserInfoEndpoint = false;
        o.Scope.Clear();
        o.Scope.Add(OpenIdConnectScope.OpenId);
        foreach (string scope in OidcOptions.Split(oidc.Scopes))
        {
            o.Scope.Add(scope);
        }
        o.TokenValidationParameters.NameClaimType = "name";
        o.TokenValidationParameters.RoleClaimType = oidc.RoleClaim;
        foreach (var cookie in new[] { o.CorrelationCookie, o.NonceCookie })
        {
            cookie.SameSite = SameSiteMode.Lax;
            cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        }
        o.Events.OnRemoteFailure = context =>
        {
            var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OidcSignIn));
            LogRemoteFailure(logger, context.Failure?.Message ?? "unknown");
            context.Response.Redirect($"{AccountRoutes.SignInPage}?{AccountRoutes.ErrorQuery}={Uri.EscapeDataString($"Sign-in with {oidc.DisplayName} failed")}");
            context.HandleResponse();
            return Task.CompletedTask;
        };
    }

    /// <summary>The role a provider's claims give: admin if any value of the role claim is an admin value, else operator likewise, else the default.</summary>
    public static string RoleFor(ClaimsPrincipal principal, OidcOptions oidc)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(oidc);
        var values = principal.FindAll(oidc.RoleClaim).SelectMany(c => Values(c.Value)).ToHashSet(StringComparer.Ordinal);
        if (OidcOptions.Split(oidc.AdminValues).Any(values.Contains))
        {
            return FleetRoles.Admin;
        }
        if (OidcOptions.Split(oidc.OperatorValues).Any(values.Contains))
        {
            return FleetRoles.Operator;
        }
        return oidc.DefaultRole;
    }

    /// <summary>One claim value, or the strings of a JSON array some providers put in one claim.</summary>
    private static string[] Values(string value)
    {
        if (value.StartsWith('['))
        {
            try
            {
                return JsonSerializer.Deserialize<string[]>(value) ?? [];
            }
            catch (JsonException)
            {
            }
        }
        return [value];
    }

    /// <summary>GET /account/oidc?returnUrl=: the challenge (the handler redirects to the provider).</summary>
    internal static IResult Challenge(string? returnUrl, IOptions<AccessOptions> access)
    {
        if (!access.Value.Oidc.Enabled)
        {
            return Results.NotFound();
        }
        string complete = $"{CompletePath}?returnUrl={Uri.EscapeDataString(AccountEndpoints.LocalOrRoot(returnUrl))}";
        return Results.Challenge(new AuthenticationProperties { RedirectUri = complete }, [Scheme]);
    }

    /// <summary>After the provider's callback: link or create the local user, set the role, sign in.</summary>
    internal static async Task<IResult> CompleteAsync(
        HttpContext http,
        string? returnUrl,
        IOptions<AccessOptions> access,
        SignInManager<FleetUserEntity> signIn,
        AccessAudit audit,
        TimeProvider clock,
        ILoggerFactory loggers)
    {
        var oidc = access.Value.Oidc;
        var ct = http.RequestAborted;
        string local = AccountEndpoints.LocalOrRoot(returnUrl);
        var external = await http.AuthenticateAsync(IdentityConstants.ExternalScheme).ConfigureAwait(false);
        await http.SignOutAsync(IdentityConstants.ExternalScheme).ConfigureAwait(false);
        string? subject = external.Principal?.FindFirstValue("sub") ?? external.Principal?.FindFirstValue(ClaimTypes.NameIdentifier);
        if (!oidc.Enabled || !external.Succeeded || external.Principal is null || string.IsNullOrEmpty(subject))
        {
            return AccountEndpoints.Refused(AccountRoutes.SignInPage, "invalid", local);
        }
        string role = RoleFor(external.Principal, oidc);
        var users = signIn.UserManager;
        var db = http.RequestServices.GetRequiredService<FleetDbContext>();
        var now = clock.GetUtcNow();
        var user = await users.FindByLoginAsync(Scheme, subject).ConfigureAwait(false);
        string actor = $"{oidc.DisplayName} sign-in";
        if (user is null)
        {
            user = new FleetUserEntity
            {
                UserName = await FreeUserNameAsync(users, external.Principal, subject).ConfigureAwait(false),
                CreatedAt = now,
                Source = oidc.DisplayName,
            };
            var errors = new IdentityUserAdmin.Errors();
            await using var transaction = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
            errors.Add(await users.CreateAsync(user).ConfigureAwait(false));
            errors.ThrowIfAny();
            errors.Add(await users.AddLoginAsync(user, new UserLoginInfo(Scheme, subject, oidc.DisplayName)).ConfigureAwait(false));
            errors.Add(await users.AddToRoleAsync(user, role).ConfigureAwait(false));
            errors.ThrowIfAny();
            db.AuditLog.Add(AuditEntryEntity.Change<UserView>(now, actor, "created", IdentityUserAdmin.AuditEntity, user.Id, user.UserName, null, IdentityUserAdmin.View(user, role, now)));
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
        }
        else
        {
            await SyncRoleAsync(users, db, user, role, actor, now, loggers, ct).ConfigureAwait(false);
        }
        if (!await signIn.CanSignInAsync(user).ConfigureAwait(false))
        {
            await audit.SignInFailedAsync(user.UserName ?? subject, "disabled", AccountEndpoints.ClientAddress(http), ct).ConfigureAwait(false);
            return AccountEndpoints.Refused(AccountRoutes.SignInPage, "disabled", local);
        }
        if (await users.IsLockedOutAsync(user).ConfigureAwait(false))
        {
            await audit.SignInFailedAsync(user.UserName ?? subject, "locked out", AccountEndpoints.ClientAddress(http), ct).ConfigureAwait(false);
            return AccountEndpoints.Refused(AccountRoutes.SignInPage, "locked", local);
        }
        await signIn.SignInAsync(user, isPersistent: false, authenticationMethod: Scheme).ConfigureAwait(false);
        user.LastSignInAt = now;
        await users.UpdateAsync(user).ConfigureAwait(false);
        await audit.SignedInAsync(user, Scheme, AccountEndpoints.ClientAddress(http), ct).ConfigureAwait(false);
        return Results.LocalRedirect(local);
    }

    /// <summary>The provider decides the role at each sign-in, except that the last enabled admin is never demoted.</summary>
    private static async Task SyncRoleAsync(UserManager<FleetUserEntity> users, FleetDbContext db, FleetUserEntity user, string role, string actor, DateTimeOffset now, ILoggerFactory loggers, CancellationToken ct)
    {
        var current = await users.GetRolesAsync(user).ConfigureAwait(false);
        if (current.Count == 1 && current[0] == role)
        {
            return;
        }
        if (current.Contains(FleetRoles.Admin) && user.DisabledAt is null && await IdentityUserAdmin.EnabledAdminsAsync(db, ct).ConfigureAwait(false) <= 1)
        {
            LogKeptLastAdmin(loggers.CreateLogger(typeof(OidcSignIn)), user.UserName, role);
            return;
        }
        var before = IdentityUserAdmin.View(user, current.FirstOrDefault(), now);
        var errors = new IdentityUserAdmin.Errors();
        if (current.Count > 0)
        {
            errors.Add(await users.RemoveFromRolesAsync(user, current).ConfigureAwait(false));
        }
        errors.Add(await users.AddToRoleAsync(user, role).ConfigureAwait(false));
        errors.ThrowIfAny();
        db.AuditLog.Add(AuditEntryEntity.Change(now, actor, "updated", IdentityUserAdmin.AuditEntity, user.Id, user.UserName, before, IdentityUserAdmin.View(user, role, now)));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The provider's user name (preferred_username, email, name) made valid for Identity, and unique.</summary>
    private static async Task<string> FreeUserNameAsync(UserManager<FleetUserEntity> users, ClaimsPrincipal principal, string subject)
    {
        string allowed = users.Options.User.AllowedUserNameCharacters;
        string raw = principal.FindFirstValue("preferred_username") ?? principal.FindFirstValue("email") ?? principal.FindFirstValue("name") ?? subject;
        string name = new string([.. raw.Select(c => allowed.Contains(c, StringComparison.Ordinal) ? c : '-')]).Trim('-');
        if (name.Length > IdentityUserAdmin.MaxUserNameLength - 9)
        {
            name = name[..(IdentityUserAdmin.MaxUserNameLength - 9)];
        }
        if (name.Length == 0)
        {
            name = "user";
        }
        if (await users.FindByNameAsync(name).ConfigureAwait(false) is null)
        {
            return name;
        }
        // Taken by another (local) user: a suffix from the subject keeps both apart, the same at every sign-in.
        string suffix = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(subject)))[..8];
        return $"{name}-{suffix}";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "OpenID Connect sign-in failed: {Reason}")]
    private static partial void LogRemoteFailure(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The provider's claims would make {UserName} {Role}, but they are the last enabled admin: the role stays admin")]
    private static partial void LogKeptLastAdmin(ILogger logger, string? userName, string role);
}
