using Fleet.Server.Storage;
using Fleet.Web.Data;

namespace Fleet.Server.Alerts;

/// <summary>An alert that turned firing, or resolved, at <paramref name="At"/>: what notifications are sent for.</summary>
/// <param name="Alert">The alert as it is after the transition.</param>
/// <param name="Event">"firing" or "resolved".</param>
/// <param name="At">When the transition happened (the evaluator's clock).</param>
public sealed record AlertTransition(AlertView Alert, string Event, DateTimeOffset At)
{
    public const string Firing = "firing";
    public const string Resolved = "resolved";

    /// <summary>
    /// Set on a "firing" transition of an alert that was already firing when silence #id ended: the sink notifies it
    /// only if its firing notification had been suppressed (the channels never heard of it) and no other silence holds.
    /// </summary>
    public long? AfterSilence { get; init; }
}

/// <summary>
/// Told of alert transitions by the evaluator. It adds what it must send (one delivery per channel) to the evaluator's
/// own <see cref="FleetDbContext"/> without saving: the evaluator saves the state change and the deliveries in one
/// transaction (an outbox), so a transition is never lost nor sent for a state that was not stored.
/// </summary>
public interface IAlertTransitionSink
{
    Task AddAsync(FleetDbContext db, IReadOnlyList<AlertTransition> transitions, CancellationToken ct);
}
