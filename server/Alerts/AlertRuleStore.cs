using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Fleet.Server.Alerts;

/// <summary>
/// <see cref="IAlertRules"/> over EF Core: every change is validated, and saved with its audit entry in one SaveChanges.
/// A rule deleted, disabled, or changed in what it watches resolves its open alerts in that same SaveChanges (firing
/// ones tell the transition sink "resolved"; pending ones never fired and are dropped).
/// </summary>
public sealed class AlertRuleStore(IDbContextFactory<FleetDbContext> contexts, IAlertTransitionSink sink, AlertStateGate gate, TimeProvider time) : IAlertRules
{
    public const string AuditEntity = "alert-rule";
    public const int MaxAuditLimit = 1000;
    public const int MaxActorLength = AuditEntryEntity.MaxActorLength;

    public async Task<IReadOnlyList<AlertRule>> ListAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var rules = await db.AlertRules.AsNoTracking().OrderBy(r => r.Id).ToListAsync(ct).ConfigureAwait(false);
        return [.. rules.Select(r => r.ToRule())];
    }

    public async Task<AlertRule?> GetAsync(long id, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var rule = await db.AlertRules.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct).ConfigureAwait(false);
        return rule?.ToRule();
    }

    public async Task<AlertRule> CreateAsync(AlertRuleDraft draft, string actor, CancellationToken ct)
    {
        Validate(draft);
        actor = Actor(actor);
        var now = time.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        // The id is taken first, so the rule and its audit entry (which names the id) go in one SaveChanges.
        long id = (await NextIdsAsync(db, "alert_rules", 1, ct).ConfigureAwait(false))[0];
        var entity = new AlertRuleEntity { Id = id, Name = draft.Name, UpdatedBy = actor, CreatedAt = now, UpdatedAt = now };
        entity.Apply(draft);
        var rule = entity.ToRule();
        db.AlertRules.Add(entity);
        db.AuditLog.Add(AuditEntryEntity.Change<AlertRule>(now, actor, "created", AuditEntity, Id(id), entity.Name, null, rule));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        gate.Changed();
        return rule;
    }

    public async Task<AlertRule?> UpdateAsync(long id, AlertRuleDraft draft, string actor, CancellationToken ct)
    {
        Validate(draft);
        actor = Actor(actor);
        using var held = await gate.EnterAsync(ct).ConfigureAwait(false);
        var now = time.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var entity = await db.AlertRules.FirstOrDefaultAsync(r => r.Id == id, ct).ConfigureAwait(false);
        if (entity is null)
        {
            return null;
        }
        var before = entity.ToRule();
        entity.Apply(draft);
        if (entity.ToDraft() == before.Draft)
        {
            // Nothing changed: nothing to record.
            return before;
        }
        entity.UpdatedAt = now;
        entity.UpdatedBy = actor;
        var after = entity.ToRule();
        var b = before.Draft;
        if (!after.Draft.Enabled || b.Metric != after.Draft.Metric || b.Scope != after.Draft.Scope
            || !string.Equals(b.Pattern, after.Draft.Pattern, StringComparison.Ordinal) || !string.Equals(b.Remote, after.Draft.Remote, StringComparison.Ordinal))
        {
            // The alerts were about something the rule no longer watches.
            await ResolveOpenAlertsAsync(db, id, now, after.Draft.Enabled ? "rule changed" : "rule disabled", ct).ConfigureAwait(false);
        }
        db.AuditLog.Add(AuditEntryEntity.Change(now, actor, "updated", AuditEntity, Id(id), entity.Name, before, after));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        gate.Changed();
        return after;
    }

    public async Task<bool> DeleteAsync(long id, string actor, CancellationToken ct)
    {
        actor = Actor(actor);
        using var held = await gate.EnterAsync(ct).ConfigureAwait(false);
        var now = time.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var entity = await db.AlertRules.FirstOrDefaultAsync(r => r.Id == id, ct).ConfigureAwait(false);
        if (entity is null)
        {
            return false;
        }
        await ResolveOpenAlertsAsync(db, id, now, "rule deleted", ct).ConfigureAwait(false);
        db.AlertRules.Remove(entity);
        db.AuditLog.Add(AuditEntryEntity.Change<AlertRule>(now, actor, "deleted", AuditEntity, Id(id), entity.Name, entity.ToRule(), null));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        gate.Changed();
        return true;
    }

    public async Task<IReadOnlyList<AuditEntry>> AuditAsync(int limit, CancellationToken ct)
    {
        limit = Math.Clamp(limit, 1, MaxAuditLimit);
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var rows = await db.AuditLog.AsNoTracking().OrderByDescending(a => a.At).ThenByDescending(a => a.Id).Take(limit).ToListAsync(ct).ConfigureAwait(false);
        return [.. rows.Select(a => new AuditEntry(a.Id, a.At, a.Actor, a.Action, a.Entity, a.EntityId, a.EntityName, a.Before, a.After))];
    }

    /// <summary>Identity values taken ahead of an insert, so rows that name them can be saved in the same SaveChanges.</summary>
    internal static async Task<List<long>> NextIdsAsync(FleetDbContext db, string table, int count, CancellationToken ct) =>
        await db.Database
            .SqlQuery<long>($"SELECT nextval(pg_get_serial_sequence({table}, 'id')) AS \"Value\" FROM generate_series(1, {count})")
            .ToListAsync(ct).ConfigureAwait(false);

    private async Task ResolveOpenAlertsAsync(FleetDbContext db, long ruleId, DateTimeOffset now, string reason, CancellationToken ct)
    {
        var open = await db.Alerts.Where(a => a.RuleId == ruleId && a.State != AlertState.Resolved).ToListAsync(ct).ConfigureAwait(false);
        var transitions = new List<AlertTransition>();
        foreach (var alert in open)
        {
            if (alert.State == AlertState.Pending)
            {
                db.Alerts.Remove(alert);
                continue;
            }
            alert.State = AlertState.Resolved;
            alert.ResolvedAt = now;
            alert.LastEvaluatedAt = now;
            alert.Summary = AlertSummaries.WithReason(alert.Summary, reason);
            transitions.Add(new AlertTransition(alert.ToView(), AlertTransition.Resolved, now));
        }
        if (transitions.Count > 0)
        {
            await sink.AddAsync(db, transitions, ct).ConfigureAwait(false);
        }
    }

    private static void Validate(AlertRuleDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var errors = draft.Validate();
        if (errors.Count > 0)
        {
            throw new AlertRuleInvalidException(errors);
        }
    }

    internal static string Actor(string actor)
    {
        if (string.IsNullOrWhiteSpace(actor))
        {
            throw new ArgumentException("actor: required for the audit log", nameof(actor));
        }
        actor = actor.Trim();
        return actor.Length > MaxActorLength ? actor[..MaxActorLength] : actor;
    }

    private static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
