using Microsoft.Extensions.Options;

namespace Fleet.Server.Alerts;

/// <summary>
/// Runs the evaluator: on every snapshot batch the queue holds, and on a periodic tick (the TimeProvider's timer, every
/// <see cref="AlertOptions.TickInterval"/>). A failed evaluation is logged and the loops go on (the evaluator reloads
/// its state from the database).
/// </summary>
public sealed partial class AlertEvaluationService(
    AlertEvaluator evaluator,
    AlertInbox queue,
    TimeProvider time,
    IOptions<AlertOptions> options,
    ILogger<AlertEvaluationService> logger) : BackgroundService
{
    /// <summary>Snapshots evaluated (and saved) together at most.</summary>
    public const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        await Task.WhenAll(SnapshotsAsync(stoppingToken), TicksAsync(stoppingToken)).ConfigureAwait(false);
    }

    private async Task SnapshotsAsync(CancellationToken ct)
    {
        try
        {
            while (await queue.WaitAsync(ct).ConfigureAwait(false))
            {
                var batch = queue.Take(BatchSize);
                if (batch.Count == 0)
                {
                    continue;
                }
                try
                {
                    await evaluator.EvaluateAsync(batch, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    LogEvaluationFailed(logger, e, batch.Count);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task TicksAsync(CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(options.Value.TickInterval, time);
            // A first tick at start: state is loaded and silent agents are judged without waiting for a snapshot.
            do
            {
                try
                {
                    await evaluator.TickAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    LogTickFailed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Alerts: evaluating {Count} snapshots failed; their alerts are judged again on the next ones")]
    private static partial void LogEvaluationFailed(ILogger logger, Exception e, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Alerts: the periodic evaluation failed; it runs again on the next tick")]
    private static partial void LogTickFailed(ILogger logger, Exception e);
}
