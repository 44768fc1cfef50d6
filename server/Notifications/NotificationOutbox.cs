using Fleet.Server.Alerts;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Fleet.Server.Notifications;

/// <summary>
/// The alert evaluator's sink: for each transition, one pending delivery per enabled channel whose minimum severity
/// the alert reaches, added to the evaluator's DbContext and NOT saved — the evaluator saves them with the alert's new
/// state in one transaction, and the <see cref="NotificationDispatcher"/> sends them from there.
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
        var now = clock.GetUtcNow();
        foreach (var t in transitions)
        {
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
                    Status = DeliveryStatus.Pending,
                    Attempts = 0,
                    CreatedAt = now,
                    NextAttemptAt = now,
                });
            }
        }
    }
}
