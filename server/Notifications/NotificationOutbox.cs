using System.Globalization;
using Fleet.Server.Alerts;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Fleet.Server.Notifications;

/// <summary>
/// The alert evaluator's sink: for each transition, one delivery per enabled channel whose minimum severity the alert
/// reaches, added to the evaluator's DbContext and NOT saved — the evaluator saves them with the alert's new state in
/// one transaction, and the <see cref="NotificationDispatcher"/> sends the pending ones from there.
/// Silences: a "firing" transition of an alert a silence covers is logged as <see cref="DeliveryStatus.Suppressed"/>
/// ("silenced by #id") instead of pending. A "resolved" transition is suppressed exactly when its firing was (the
/// channels hear of the end of what they heard of, and of nothing else). When a silence ends while the alert fires
/// (<see cref="AlertTransition.AfterSilence"/>), the firing goes out then if it had been suppressed and no other
/// silence holds; if it had been delivered, nothing is added.
/// </summary>
public sealed class NotificationOutbox(NotificationPayloads payloads, TimeProvider clock) : IAlertTransitionSink
{
    public async Task AddAsync(FleetDbContext db, IReadOnlyList<AlertTransition> transitions, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(transitions);
        if (transitions.Count == 0)
        {
            return;
        }
        var channels = await db.NotificationChannels.AsNoTracking().Where(c => c.Enabled).OrderBy(c => c.Id).ToListAsync(ct);
        if (channels.Count == 0)
        {
            return;
        }
        var silences = await Silences.HoldingAsync(db, transitions.Min(t => t.At), transitions.Max(t => t.At), ct);
        var lastFiring = await LastFiringAsync(db, [.. transitions.Where(t => t.Event == AlertTransition.Resolved || t.AfterSilence is not null).Select(t => t.Alert.Id)], ct);
        var now = clock.GetUtcNow();
        foreach (var t in transitions)
        {
            string? suppressedBy;
            if (t.Event == AlertTransition.Resolved)
            {
                // Suppressed when the channels never heard it fire.
                suppressedBy = lastFiring.TryGetValue(t.Alert.Id, out var firing) && firing.Status == DeliveryStatus.Suppressed ? firing.Note : null;
            }
            else
            {
                if (t.AfterSilence is not null && !(lastFiring.TryGetValue(t.Alert.Id, out var firing) && firing.Status == DeliveryStatus.Suppressed))
                {
                    // Its firing went out before the silence (or there was nothing to send): nothing was missed.
                    continue;
                }
                suppressedBy = Silences.Covering(silences, t.Alert, t.At) is { } silence ? SilencedBy(silence) : null;
            }
            var status = suppressedBy is null ? DeliveryStatus.Pending : DeliveryStatus.Suppressed;
            foreach (var channel in channels.Where(c => c.MinSeverity <= t.Alert.Severity))
            {
                db.NotificationDeliveries.Add(new NotificationDeliveryEntity
                {
                    ChannelId = channel.Id,
                    ChannelName = channel.Name,
                    AlertId = t.Alert.Id,
                    RuleName = NotificationPayloads.Clean(t.Alert.RuleName),
                    Subject = NotificationPayloads.Subject(t.Alert),
                    Event = t.Event,
                    // Built now: a retry an hour later still says what the alert was at the transition.
                    Payload = payloads.Build(channel.Kind, channel.Name, t),
                    Status = status,
                    Attempts = 0,
                    CreatedAt = now,
                    NextAttemptAt = status == DeliveryStatus.Pending ? now : null,
                    LastError = suppressedBy,
                });
            }
            if (t.Event == AlertTransition.Firing)
            {
                // A resolve later in this same batch judges by this firing (its rows are not saved yet).
                lastFiring[t.Alert.Id] = (status, suppressedBy);
            }
        }
    }

    /// <summary>"silenced by #12 (until 2030-03-15 14:00 UTC, Ana: deploy of api)", at most the column's length.</summary>
    public static string SilencedBy(AlertSilenceEntity silence)
    {
        ArgumentNullException.ThrowIfNull(silence);
        string text = string.Create(CultureInfo.InvariantCulture, $"silenced by #{silence.Id} (until {silence.Until.UtcDateTime:yyyy-MM-dd HH:mm} UTC, {silence.CreatedBy}: {silence.Reason})");
        return text.Length > NotificationDeliveryEntity.MaxErrorLength ? text[..(NotificationDeliveryEntity.MaxErrorLength - 1)] + "…" : text;
    }

    /// <summary>The newest firing delivery of each alert: whether it was suppressed, and why.</summary>
    private static async Task<Dictionary<long, (DeliveryStatus Status, string? Note)>> LastFiringAsync(FleetDbContext db, List<long> alertIds, CancellationToken ct)
    {
        if (alertIds.Count == 0)
        {
            return [];
        }
        alertIds = [.. alertIds.Distinct()];
        var rows = await db.NotificationDeliveries.AsNoTracking()
            .Where(d => alertIds.Contains(d.AlertId) && d.Event == AlertTransition.Firing)
            .GroupBy(d => d.AlertId)
            .Select(g => g.OrderByDescending(d => d.Id).Select(d => new { d.AlertId, d.Status, d.LastError }).First())
            .ToListAsync(ct);
        return rows.ToDictionary(r => r.AlertId, r => (r.Status, r.LastError));
    }
}
