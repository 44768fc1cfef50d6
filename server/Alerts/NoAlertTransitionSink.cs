namespace Fleet.Server.Alerts;

/// <summary>Used when no notifier is registered: transitions are stored as alert state only.</summary>
public sealed class NoAlertTransitionSink : IAlertTransitionSink
{
    public static readonly NoAlertTransitionSink Instance = new();

    public Task AddAsync(Storage.FleetDbContext db, IReadOnlyList<AlertTransition> transitions, CancellationToken ct) => Task.CompletedTask;
}
