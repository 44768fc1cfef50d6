using System.Globalization;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Configurations;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Fleet.Server.Notifications;

/// <summary>
/// Channels and the delivery log in PostgreSQL. Every change is validated (<see cref="ChannelInvalidException"/>,
/// each error naming its field) and audited: the audit entry ("notification-channel") is saved in the same
/// SaveChanges as an update or delete, and in the same transaction as a create (whose id the insert makes). Deleting a channel keeps its deliveries (they carry its id and name) and gives up
/// those still pending.
/// </summary>
public sealed class PostgresNotificationChannels(IDbContextFactory<FleetDbContext> contexts, TimeProvider clock) : INotificationChannels
{
    public const string AuditEntity = "notification-channel";
    public const int MaxDeliveries = 1000;

    public async Task<IReadOnlyList<NotificationChannel>> ListAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rows = await db.NotificationChannels.AsNoTracking().OrderBy(c => c.Name).ThenBy(c => c.Id).ToListAsync(ct);
        return rows.Select(ToModel).ToList();
    }

    public async Task<NotificationChannel> CreateAsync(ChannelDraft draft, string actor, CancellationToken ct)
    {
        draft = Checked(draft);
        await using var db = await contexts.CreateDbContextAsync(ct);
        await CheckNameFreeAsync(db, draft.Name, null, ct);
        var now = clock.GetUtcNow();
        var entity = new NotificationChannelEntity
        {
            Name = draft.Name,
            Kind = draft.Kind,
            Url = draft.Url,
            MinSeverity = draft.MinSeverity,
            Enabled = draft.Enabled,
            CreatedAt = now,
            UpdatedAt = now,
            UpdatedBy = Actor(actor),
        };
        // The identity is known once inserted, so the audit entry is a second statement: one transaction holds both.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.NotificationChannels.Add(entity);
        await SaveUniqueAsync(db, ct);
        var created = ToModel(entity);
        db.AuditLog.Add(AuditEntryEntity.Change<NotificationChannel>(now, Actor(actor), "created", AuditEntity, Id(entity.Id), entity.Name, null, created));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return created;
    }

    public async Task<NotificationChannel?> UpdateAsync(long id, ChannelDraft draft, string actor, CancellationToken ct)
    {
        draft = Checked(draft);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var entity = await db.NotificationChannels.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (entity is null)
        {
            return null;
        }
        await CheckNameFreeAsync(db, draft.Name, id, ct);
        var before = ToModel(entity);
        var now = clock.GetUtcNow();
        entity.Name = draft.Name;
        entity.Kind = draft.Kind;
        entity.Url = draft.Url;
        entity.MinSeverity = draft.MinSeverity;
        entity.Enabled = draft.Enabled;
        entity.UpdatedAt = now;
        entity.UpdatedBy = Actor(actor);
        var after = ToModel(entity);
        db.AuditLog.Add(AuditEntryEntity.Change(now, Actor(actor), "updated", AuditEntity, Id(id), entity.Name, before, after));
        await SaveUniqueAsync(db, ct);
        return after;
    }

    public async Task<bool> DeleteAsync(long id, string actor, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var entity = await db.NotificationChannels.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (entity is null)
        {
            return false;
        }
        var now = clock.GetUtcNow();
        db.NotificationChannels.Remove(entity);
        db.AuditLog.Add(AuditEntryEntity.Change<NotificationChannel>(now, Actor(actor), "deleted", AuditEntity, Id(id), entity.Name, ToModel(entity), null));
        // Pending deliveries have nowhere to go: given up now, in the same transaction, so the log says why.
        var pending = await db.NotificationDeliveries.Where(d => d.ChannelId == id && d.Status == DeliveryStatus.Pending).ToListAsync(ct);
        foreach (var d in pending)
        {
            d.Status = DeliveryStatus.Failed;
            d.NextAttemptAt = null;
            d.LastError = "channel deleted before delivery";
        }
        await db.SaveChangesAsync(ct);
        return true;
    }

    public async Task<IReadOnlyList<DeliveryView>> DeliveriesAsync(long? channelId, int limit, CancellationToken ct)
    {
        limit = Math.Clamp(limit, 1, MaxDeliveries);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var query = db.NotificationDeliveries.AsNoTracking();
        if (channelId is { } cid)
        {
            query = query.Where(d => d.ChannelId == cid);
        }
        // Ids follow insertion: newest first without a sort on a timestamp.
        var rows = await query.OrderByDescending(d => d.Id).Take(limit).ToListAsync(ct);
        return rows.Select(ToView).ToList();
    }

    internal static DeliveryView ToView(NotificationDeliveryEntity d) => new(
        d.Id, d.ChannelId, d.ChannelName, d.AlertId, d.RuleName, d.Subject, d.Event, d.Status, d.Attempts,
        d.CreatedAt, d.LastAttemptAt, d.NextAttemptAt, d.LastStatusCode, d.LastError);

    private static NotificationChannel ToModel(NotificationChannelEntity e) =>
        new(e.Id, new ChannelDraft(e.Name, e.Kind, e.Url, e.MinSeverity, e.Enabled), e.UpdatedAt, e.UpdatedBy);

    private static ChannelDraft Checked(ChannelDraft draft)
    {
        if (draft is null)
        {
            throw new ChannelInvalidException(["channel: required"]);
        }
        var errors = draft.Validate();
        if (errors.Count > 0)
        {
            throw new ChannelInvalidException(errors);
        }
        return draft with { Name = draft.Name.Trim(), Url = draft.Url.Trim() };
    }

    private static async Task CheckNameFreeAsync(FleetDbContext db, string name, long? self, CancellationToken ct)
    {
        if (await db.NotificationChannels.AnyAsync(c => c.Name == name && c.Id != self, ct))
        {
            throw NameTaken(name);
        }
    }

    /// <summary>Saves; a concurrent create or rename to the same name (the unique index) is the same clear error.</summary>
    private static async Task SaveUniqueAsync(FleetDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: NotificationValueConverters.ChannelNameIndex })
        {
            throw NameTaken(db.ChangeTracker.Entries<NotificationChannelEntity>().Select(e => e.Entity.Name).FirstOrDefault() ?? "");
        }
    }

    private static ChannelInvalidException NameTaken(string name) => new([$"name: \"{name}\" is already the name of another channel"]);

    private static string Actor(string actor) => string.IsNullOrWhiteSpace(actor) ? AnonymousActor.Name : actor.Length > 200 ? actor[..200] : actor;

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
