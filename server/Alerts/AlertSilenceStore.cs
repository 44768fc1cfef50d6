using System.Globalization;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Fleet.Server.Alerts;

/// <summary>
/// <see cref="IAlertSilences"/> over EF Core. A new silence is validated (the rule must exist; a silence made from an
/// alert takes that open alert's rule and exact subject) and saved with its audit entry ("alert-silence", "created")
/// in one SaveChanges. Ending one early records who ended it, the audit entry ("ended") and the notifications of the
/// alerts that outlived it (see <see cref="Silences.ReleaseAsync"/>) in one transaction, holding the
/// <see cref="AlertStateGate"/> so no evaluation interleaves. Expiry is handled by the evaluator's tick.
/// </summary>
public sealed class AlertSilenceStore(IDbContextFactory<FleetDbContext> contexts, IAlertTransitionSink sink, AlertStateGate gate, TimeProvider time) : IAlertSilences
{
    public const string AuditEntity = "alert-silence";
    public const int MaxListLimit = 1000;

    public async Task<IReadOnlyList<AlertSilence>> ListAsync(bool includeOver, int limit, CancellationToken ct)
    {
        limit = Math.Clamp(limit, 1, MaxListLimit);
        var now = time.GetUtcNow().ToUniversalTime();
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var rows = db.AlertSilences.AsNoTracking();
        if (!includeOver)
        {
            var active = await rows
                .Where(s => s.StartsAt <= now && s.EndsAt > now && (s.EndedAt == null || s.EndedAt > now))
                .OrderBy(s => s.EndsAt).ThenBy(s => s.Id)
                .Take(limit)
                .ToListAsync(ct).ConfigureAwait(false);
            return [.. active.Select(s => s.ToModel())];
        }
        var all = await rows.OrderByDescending(s => s.Id).Take(limit).ToListAsync(ct).ConfigureAwait(false);
        return [.. all.Select(s => s.ToModel())];
    }

    public async Task<AlertSilence?> GetAsync(long id, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var row = await db.AlertSilences.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct).ConfigureAwait(false);
        return row?.ToModel();
    }

    public async Task<AlertSilence> CreateAsync(AlertSilenceDraft draft, string actor, CancellationToken ct)
    {
        if (draft is null)
        {
            throw new AlertSilenceInvalidException(["body: a silence is required"]);
        }
        var errors = draft.Validate();
        if (errors.Count > 0)
        {
            throw new AlertSilenceInvalidException(errors);
        }
        actor = AlertRuleStore.Actor(actor);
        var now = time.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var entity = new AlertSilenceEntity
        {
            Reason = draft.Reason.Trim(),
            CreatedBy = actor,
            CreatedAt = now,
            StartsAt = now,
            EndsAt = now + draft.Duration,
        };
        if (draft.AlertId is { } alertId)
        {
            var alert = await db.Alerts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == alertId, ct).ConfigureAwait(false);
            if (alert is null || alert.State == AlertState.Resolved)
            {
                throw new AlertSilenceInvalidException([alert is null ? $"alertId: no alert {alertId}" : $"alertId: alert {alertId} is resolved; silence its rule and host instead"]);
            }
            entity.RuleId = alert.RuleId;
            entity.RuleName = alert.RuleName;
            entity.AlertId = alert.Id;
            entity.Host = alert.Host;
            entity.Service = alert.Service;
            entity.Pid = alert.Pid;
            entity.Remote = alert.Remote;
        }
        else
        {
            if (draft.RuleId is { } ruleId)
            {
                var rule = await db.AlertRules.AsNoTracking().FirstOrDefaultAsync(r => r.Id == ruleId, ct).ConfigureAwait(false)
                    ?? throw new AlertSilenceInvalidException([$"ruleId: no alert rule {ruleId}"]);
                entity.RuleId = rule.Id;
                entity.RuleName = rule.Name;
            }
            entity.HostPattern = AlertSilenceDraft.MatchesAll(draft.HostPattern) ? null : draft.HostPattern!.Trim();
            entity.ServicePattern = AlertSilenceDraft.MatchesAll(draft.ServicePattern) ? null : draft.ServicePattern!.Trim();
        }
        // The id is taken first, so the silence and its audit entry (which names the id) go in one SaveChanges.
        entity.Id = (await AlertRuleStore.NextIdsAsync(db, "alert_silences", 1, ct).ConfigureAwait(false))[0];
        db.AlertSilences.Add(entity);
        var model = entity.ToModel();
        db.AuditLog.Add(AuditEntryEntity.Change<AlertSilence>(now, actor, "created", AuditEntity, Id(entity.Id), model.Matchers, null, model));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        return model;
    }

    public async Task<AlertSilence?> EndAsync(long id, string actor, CancellationToken ct)
    {
        actor = AlertRuleStore.Actor(actor);
        using var held = await gate.EnterAsync(ct).ConfigureAwait(false);
        var now = time.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        await using var tx = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        var entity = await db.AlertSilences
            .FromSql($"SELECT * FROM alert_silences WHERE id = {id} FOR UPDATE")
            .ToListAsync(ct).ConfigureAwait(false) is [var row] ? row : null;
        if (entity is null)
        {
            return null;
        }
        if (now >= entity.Until)
        {
            // Already over: ending it again changes nothing.
            return entity.ToModel();
        }
        var before = entity.ToModel();
        entity.EndedAt = now;
        entity.EndedBy = actor;
        var after = entity.ToModel();
        db.AuditLog.Add(AuditEntryEntity.Change(now, actor, "ended", AuditEntity, Id(id), after.Matchers, before, after));
        // Written first (inside the transaction): the sink reads which silences still hold from the database.
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        if (entity.ReleasedAt is null)
        {
            await Silences.ReleaseAsync(db, sink, [entity], now, ct).ConfigureAwait(false);
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return after;
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
