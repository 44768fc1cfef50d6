using System.Security.Claims;
using System.Text.Encodings.Web;
using Fleet.Server.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Access;

/// <summary>
/// The personal API token scheme: <c>Authorization: Bearer fleet_pat_...</c>, or <c>?access_token=</c> on the hub
/// (SignalR's clients send it so on WebSockets). The token is looked up by its SHA-256; it is refused when revoked,
/// expired, or its user is disabled or locked out. The principal carries the user's current role from the database.
/// </summary>
internal sealed partial class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IDbContextFactory<FleetDbContext> dbFactory,
    TimeProvider clock) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "FleetApiToken";

    /// <summary>The token's id (a claim of token principals; a cookie principal has none).</summary>
    public const string TokenIdClaim = "fleet:token_id";

    public const string TokenNameClaim = "fleet:token_name";

    /// <summary>LastUsedAt is written at most this often per token.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private const string QueryKey = "access_token";

    /// <summary>Whether the request carries a bearer token (then the token scheme, not the cookie, decides).</summary>
    public static bool HasToken(HttpRequest request) => ReadToken(request) is not null;

    private static string? ReadToken(HttpRequest request)
    {
        string authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }
        if (request.Path.StartsWithSegments("/hubs") && request.Query.TryGetValue(QueryKey, out var values) && values.Count == 1 && !string.IsNullOrEmpty(values[0]))
        {
            return values[0];
        }
        return null;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? token = ReadToken(Request);
        if (token is null)
        {
            return AuthenticateResult.NoResult();
        }
        if (!ApiTokenSecrets.LooksLikeToken(token))
        {
            return Refuse("not a Fleet API token (fleet_pat_...)");
        }
        byte[] hash = ApiTokenSecrets.Hash(token);
        var ct = Context.RequestAborted;
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var found = await db.ApiTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash)
            .Select(t => new
            {
                t.Id,
                t.Name,
                t.UserId,
                t.ExpiresAt,
                t.RevokedAt,
                t.LastUsedAt,
                t.User!.UserName,
                t.User.DisabledAt,
                t.User.LockoutEnd,
                Role = db.UserRoles.Where(ur => ur.UserId == t.UserId).Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => r.Name).FirstOrDefault(),
            })
            .FirstOrDefaultAsync(ct).ConfigureAwait(false);
        if (found is null)
        {
            return Refuse("unknown token");
        }
        if (found.RevokedAt is not null)
        {
            return Refuse($"token {found.Id} was revoked");
        }
        if (found.ExpiresAt is { } expires && expires <= now)
        {
            return Refuse($"token {found.Id} expired");
        }
        if (found.DisabledAt is not null)
        {
            return Refuse($"the user of token {found.Id} is disabled");
        }
        if (found.LockoutEnd is { } lockoutEnd && lockoutEnd > now)
        {
            return Refuse($"the user of token {found.Id} is locked out");
        }
        if (found.LastUsedAt is not { } lastUsed || now - lastUsed >= LastUsedResolution)
        {
            var before = now - LastUsedResolution;
            await db.ApiTokens
                .Where(t => t.Id == found.Id && (t.LastUsedAt == null || t.LastUsedAt <= before))
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), ct).ConfigureAwait(false);
        }
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, found.UserId),
            new(ClaimTypes.Name, found.UserName ?? found.UserId),
            new(TokenIdClaim, found.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(TokenNameClaim, found.Name),
        };
        if (found.Role is { } role)
        {
            claims.Add(new Claim(ClaimTypes.Role, role));
        }
        var identity = new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
        return Task.CompletedTask;
    }

    private AuthenticateResult Refuse(string why)
    {
        LogRefused(Logger, Request.Path, why);
        return AuthenticateResult.Fail(why);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "API token refused on {Path}: {Reason}")]
    private static partial void LogRefused(ILogger logger, PathString path, string reason);
}

/// <summary>The default scheme: the API token when the request carries one, else Identity's application cookie.</summary>
internal static class FleetAuthenticationSchemes
{
    public const string Default = "Fleet";

    public static string Select(HttpContext context) =>
        ApiTokenAuthenticationHandler.HasToken(context.Request) ? ApiTokenAuthenticationHandler.SchemeName : IdentityConstants.ApplicationScheme;
}
