namespace Fleet.Server.Ingest;

/// <summary>
/// When the host begins to stop, the open streams end first (each with Unavailable, see <see cref="SnapshotIngestor"/>)
/// and the host waits for them (bounded) before Kestrel stops, so every agent gets its status instead of a dropped
/// connection, and an idle stream does not hold the shutdown up.
/// </summary>
internal sealed class IngestShutdown(AgentStreams streams) : IHostedLifecycleService
{
    public static TimeSpan DrainTimeout { get; } = TimeSpan.FromSeconds(5);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(DrainTimeout);
        try
        {
            await streams.StopAllAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Streams still open are closed by Kestrel as it stops.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
