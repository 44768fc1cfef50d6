using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Fleet.Server.Access;

/// <summary>Writes sign-in events to the audit log (changes of users and tokens are written with the change itself).</summary>
internal sealed class AccessAudit(IDbContextFactory<FleetDbContext> dbFactory, TimeProvider clock)
{
    public const string SessionEntity = "session";

    public async Task SignedInAsync(FleetUserEntity user, string method, string? clientAddress, CancellationToken ct)
    {
        await WriteAsync(Clip(user.UserName ?? user.Id), "signed-in", user.Id, user.UserName, new SessionEvent(method, null, clientAddress), ct).ConfigureAwait(false);
    }

    /// <summary>A refused sign-in: the attempted name, why, from where; never the password.</summary>
    public Task SignInFailedAsync(string attemptedName, string reason, string? clientAddress, CancellationToken ct) =>
        SignInFailedAsync(attemptedName, "password", reason, clientAddress, ct);

    /// <param name="method">"password", "setup" or "oidc".</param>
    public async Task SignInFailedAsync(string attemptedName, string method, string reason, string? clientAddress, CancellationToken ct)
    {
        await WriteAsync($"anonymous from {clientAddress ?? "unknown address"}", "sign-in-failed", null, Clip(attemptedName), new SessionEvent(method, reason, clientAddress), ct).ConfigureAwait(false);
    }

    public async Task SignedOutAsync(string userName, string? userId, string? clientAddress, CancellationToken ct)
    {
        await WriteAsync(Clip(userName), "signed-out", userId, userName, new SessionEvent("cookie", null, clientAddress), ct).ConfigureAwait(false);
    }

    private async Task WriteAsync(string actor, string action, string? entityId, string? entityName, SessionEvent details, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
        db.AuditLog.Add(AuditEntryEntity.Change<SessionEvent>(clock.GetUtcNow(), actor, action, SessionEntity, entityId, entityName is null ? null : Clip(entityName), null, details));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
    }

    internal static string Clip(string value) => value.Length > AuditEntryEntity.MaxActorLength ? value[..AuditEntryEntity.MaxActorLength] : value;

    private sealed record SessionEvent(string Method, string? Reason, string? ClientAddress);
}
