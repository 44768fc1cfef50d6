using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fleet.Server.Projection;

/// <summary>What one projection pass did.</summary>
/// <param name="Instances">Service instance series projected.</param>
/// <param name="Processes">Process series projected.</param>
/// <param name="Leaks">Series with a leak verdict (instances and processes).</param>
/// <param name="SocketLeaks">Instances with a socket leak named.</param>
/// <param name="RowsRead">Aggregated rows read from the database (minute buckets).</param>
/// <param name="FullRead">Whether the whole lookback was read (first pass, and every hour) or only the minutes since the last pass.</param>
/// <param name="Deleted">Rows of series no longer seen that were deleted.</param>
/// <param name="Elapsed">Wall time of the pass.</param>
public sealed record ProjectionPassResult(int Instances, int Processes, int Leaks, int SocketLeaks, int RowsRead, bool FullRead, int Deleted, TimeSpan Elapsed);

/// <summary>
/// Recomputes the leak projection of every service instance and every process that matters seen in the lookback,
/// every <see cref="ProjectionJobOptions.Interval"/>, from the stored series (<see cref="StoredSeries"/>), with
/// <see cref="LeakProjector"/>, and stores them in the projections table (<see cref="ProjectionStore"/>). A failed
/// pass is logged and the next one runs at the next interval; passes never overlap.
/// </summary>
public sealed partial class ProjectionJob(
    NpgsqlDataSource dataSource,
    ProjectionStore store,
    IOptions<ProjectionJobOptions> options,
    TimeProvider time,
    ILogger<ProjectionJob> logger) : BackgroundService
{
    private readonly StoredSeries _series = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ProjectionJobOptions _options = options.Value;

    /// <summary>The projector's thresholds (the defaults unless a test sets them).</summary>
    internal ProjectionOptions? ProjectorOptions { get; init; }

    /// <summary>Runs one pass at the clock's now.</summary>
    public async Task<ProjectionPassResult> RunPassAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var started = Stopwatch.GetTimestamp();
            var now = time.GetUtcNow();
            var (rows, full) = await _series.RefreshAsync(dataSource, now, _options.Lookback, ct);
            var instances = ProjectionPass.Instances(_series, now, ProjectorOptions);
            var processes = ProjectionPass.Processes(_series, now, ProjectorOptions);
            rows += await SocketLeaks.FindAsync(dataSource, _series, instances, now, ProjectorOptions, ct);
            var all = new List<SeriesProjection>(instances.Count + processes.Count);
            all.AddRange(instances);
            all.AddRange(processes);
            var (_, deleted) = await store.SaveAsync(all, now, ct);
            var result = new ProjectionPassResult(
                instances.Count,
                processes.Count,
                all.Count(p => p.Result.Verdict == ProjectionVerdict.Leak),
                instances.Count(p => p.SocketLeak is not null),
                rows,
                full,
                deleted,
                Stopwatch.GetElapsedTime(started));
            LogPass(logger, result.Instances, result.Processes, result.Leaks, result.RowsRead, result.FullRead, result.Elapsed.TotalMilliseconds);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            using var timer = new PeriodicTimer(_options.Interval, time);
            do
            {
                try
                {
                    await RunPassAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFailed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Projection pass: {Instances} instances, {Processes} processes, {Leaks} leaks, {Rows} rows read (full read: {Full}) in {Milliseconds:0} ms")]
    private static partial void LogPass(ILogger logger, int instances, int processes, int leaks, int rows, bool full, double milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Projection pass failed; the next runs at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
