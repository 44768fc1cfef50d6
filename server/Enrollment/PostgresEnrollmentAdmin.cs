using System.Globalization;
using Fleet.Server.Ingest;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Fleet.Server.Enrollment;

/// <summary>
/// Agent enrollment on PostgreSQL: enrollment tokens (made here as the command line makes them: 32 random bytes,
/// only the SHA-256 kept, the token shown once), their revocation, and the agents. Every change is written with its
/// audit entry ("enrollment-token": "created", "revoked") in one transaction. Revoking commits first, then cuts the
/// open streams of this server opened with the token (<see cref="AgentStreams.Revoke"/>); other servers cut theirs
/// within <see cref="IngestOptions.RevocationCheckInterval"/> (<see cref="RevocationWatch"/>), and every server
/// refuses the token on the next Hello.
/// </summary>
/// <remarks>
/// <paramref name="streams"/> is optional: a process without ingest (the <c>tokens</c> command line) makes and
/// revokes tokens with the same rules and audit; a running server then cuts its streams through its watch.
/// </remarks>
public sealed partial class PostgresEnrollmentAdmin(
    IDbContextFactory<FleetDbContext> contexts,
    TimeProvider clock,
    ILogger<PostgresEnrollmentAdmin> logger,
    AgentStreams? streams = null) : IEnrollmentAdmin
{
    public const string AuditEntity = "enrollment-token";

    /// <summary>Serializes token creation across servers so that two unrevoked tokens never share a name.</summary>
    private const long NameLockKey = 0x466C656574_0007; // "Fleet", issue 7


    /// <summary>Newest first (revoked ones too: the list is the record of what was ever handed out).</summary>
    public async Task<IReadOnlyList<EnrollmentTokenView>> ListTokensAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rows = await db.EnrollmentTokens.AsNoTracking()
            .OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id)
            .Select(t => new { Token = t, Agents = db.Agents.Count(a => a.TokenId == t.Id) })
            .ToListAsync(ct);
        return [.. rows.Select(r => ToView(r.Token, r.Agents))];
    }

    public async Task<NewSecret> CreateTokenAsync(string name, string actor, CancellationToken ct)
    {
        name = name?.Trim() ?? "";
        if (EnrollmentTokenNames.Problem(name) is { } problem)
        {
            throw new AccessInvalidException("name", problem);
        }
        actor = AuditEntryEntity.ActorOf(actor);
        var (token, hash) = EnrollmentTokens.Create();
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Held to the commit: the check below and the insert are one step for every server on this database.
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({NameLockKey})", ct);
        if (await db.EnrollmentTokens.AnyAsync(t => t.Name == name && t.RevokedAt == null, ct))
        {
            throw new AccessInvalidException("name", $"a token named '{name}' exists and is not revoked: choose another name or revoke it first");
        }
        var now = clock.GetUtcNow();
        var entity = new EnrollmentTokenEntity { Name = name, TokenHash = hash, CreatedAt = now, CreatedBy = actor };
        db.EnrollmentTokens.Add(entity);
        await db.SaveChangesAsync(ct);
        db.AuditLog.Add(AuditEntryEntity.Change<TokenState>(now, actor, "created", AuditEntity, Id(entity.Id), name, null, State(entity)));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        LogCreated(logger, name, entity.Id, actor);
        return new NewSecret(entity.Id, name, token);
    }

    public async Task<bool> RevokeTokenAsync(long tokenId, string actor, CancellationToken ct)
    {
        actor = AuditEntryEntity.ActorOf(actor);
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // The row lock makes a concurrent revocation wait and then see it revoked: one audit entry per revocation.
        var entity = await db.EnrollmentTokens
            .FromSql($"SELECT * FROM enrollment_tokens WHERE id = {tokenId} FOR UPDATE")
            .FirstOrDefaultAsync(ct);
        if (entity is null)
        {
            return false;
        }
        if (entity.RevokedAt is null)
        {
            var before = State(entity);
            var now = clock.GetUtcNow();
            entity.RevokedAt = now;
            db.AuditLog.Add(AuditEntryEntity.Change(now, actor, "revoked", AuditEntity, Id(tokenId), entity.Name, before, State(entity)));
            await db.SaveChangesAsync(ct);
        }
        await tx.CommitAsync(ct);
        // After the commit: a stream cut now cannot come back in (its Hello finds the token revoked).
        int cut = streams?.Revoke(tokenId) ?? 0;
        LogRevoked(logger, entity.Name, tokenId, actor, cut);
        return true;
    }

    /// <summary>The most recently seen first.</summary>
    public async Task<IReadOnlyList<AgentView>> ListAgentsAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rows = await db.Agents.AsNoTracking()
            .OrderByDescending(a => a.LastSeen).ThenBy(a => a.AgentId)
            .Select(a => new
            {
                a.AgentId,
                HostName = a.Host!.Hostname,
                a.Version,
                a.PeerAddress,
                a.FirstSeen,
                a.LastSeen,
                a.TokenId,
                TokenName = a.Token == null ? null : a.Token.Name,
                TokenRevoked = a.Token != null && a.Token.RevokedAt != null,
            })
            .ToListAsync(ct);
        var open = streams?.OpenAgentIds() ?? new HashSet<string>();
        return
        [
            .. rows.Select(r => new AgentView(
                r.AgentId, r.HostName, r.Version, r.PeerAddress, r.FirstSeen, r.LastSeen, r.TokenId, r.TokenName, r.TokenRevoked,
                open.Contains(r.AgentId))),
        ];
    }

    private static EnrollmentTokenView ToView(EnrollmentTokenEntity t, int agents) =>
        new(t.Id, t.Name, t.CreatedAt, t.CreatedBy, t.RevokedAt, agents);

    /// <summary>What the audit log keeps of a token: never its hash.</summary>
    private static TokenState State(EnrollmentTokenEntity t) => new(t.Id, t.Name, t.CreatedAt, t.CreatedBy, t.RevokedAt);

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private sealed record TokenState(long Id, string Name, DateTimeOffset CreatedAt, string? CreatedBy, DateTimeOffset? RevokedAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Enrollment token '{Name}' (id {Id}) created by {Actor}")]
    private static partial void LogCreated(ILogger logger, string name, long id, string actor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Enrollment token '{Name}' (id {Id}) revoked by {Actor}: {Streams} open stream(s) cut")]
    private static partial void LogRevoked(ILogger logger, string name, long id, string actor, int streams);
}
