using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Fleet.Server.Access;

/// <summary>Personal API tokens on PostgreSQL (api_tokens): made, listed and revoked by their owner, each change audited.</summary>
internal sealed class PostgresApiTokens(IDbContextFactory<FleetDbContext> dbFactory, TimeProvider clock) : IApiTokens
{
    public const string AuditEntity = "api-token";
    public const int MaxNameLength = 64;

    /// <summary>Active (not revoked, not expired) tokens one user may hold.</summary>
    public const int MaxActivePerUser = 50;

    public static readonly TimeSpan MinLifetime = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(3650);

    public async Task<IReadOnlyList<ApiTokenView>> ListAsync(string userId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var tokens = await db.ApiTokens.AsNoTracking()
            .Where(t => t.UserId == userId)
            .OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id)
            .ToListAsync(ct).ConfigureAwait(false);
        return [.. tokens.Select(View)];
    }

    public async Task<NewSecret> CreateAsync(string userId, string name, TimeSpan? lifetime, string actor, CancellationToken ct)
    {
        name = (name ?? "").Trim();
        var errors = new IdentityUserAdmin.Errors();
        if (name.Length is 0 or > MaxNameLength || name.Any(char.IsControl))
        {
            errors.Add("name", $"1 to {MaxNameLength} characters, no control characters");
        }
        if (lifetime is { } l && (l < MinLifetime || l > MaxLifetime))
        {
            errors.Add("lifetime", $"between {MinLifetime.TotalMinutes:0} minute and {MaxLifetime.TotalDays:0} days, or none (never expires)");
        }
        errors.ThrowIfAny();
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.DisabledAt }).FirstOrDefaultAsync(ct).ConfigureAwait(false);
        if (user is null || user.DisabledAt is not null)
        {
            throw new AccessInvalidException("userId", "no such enabled user");
        }
        int active = await db.ApiTokens.CountAsync(t => t.UserId == userId && t.RevokedAt == null && (t.ExpiresAt == null || t.ExpiresAt > now), ct).ConfigureAwait(false);
        if (active >= MaxActivePerUser)
        {
            throw new AccessInvalidException("name", $"at most {MaxActivePerUser} active tokens per user: revoke one first");
        }
        var (token, hash) = ApiTokenSecrets.Create();
        var entity = new ApiTokenEntity
        {
            UserId = userId,
            Name = name,
            TokenHash = hash,
            CreatedAt = now,
            ExpiresAt = lifetime is { } life ? now + life : null,
        };
        await using var transaction = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        db.ApiTokens.Add(entity);
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        db.AuditLog.Add(AuditEntryEntity.Change<ApiTokenView>(now, IdentityUserAdmin.Actor(actor), "created", AuditEntity, Id(entity.Id), entity.Name, null, View(entity)));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return new NewSecret(entity.Id, entity.Name, token);
    }

    public async Task<bool> RevokeAsync(string userId, long tokenId, string actor, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        var entity = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == tokenId && t.UserId == userId, ct).ConfigureAwait(false);
        if (entity is null)
        {
            return false;
        }
        if (entity.RevokedAt is not null)
        {
            return true;
        }
        var before = View(entity);
        var now = clock.GetUtcNow();
        entity.RevokedAt = now;
        db.AuditLog.Add(AuditEntryEntity.Change(now, IdentityUserAdmin.Actor(actor), "revoked", AuditEntity, Id(entity.Id), entity.Name, before, View(entity)));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        return true;
    }

    private static ApiTokenView View(ApiTokenEntity t) => new(t.Id, t.Name, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt);

    private static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
