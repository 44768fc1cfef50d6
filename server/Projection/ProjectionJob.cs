using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using Fleet.Web.Data;

namespace Fleet.Server.Projection;

/// <summary>What one projection pass did.</summary>
/// <param name="Instances">Service instance series projected.</param>
/// <param name="Processes">Process series projected.</param>
/// <param name="Projected">Series computed this pass (the others kept a recent "no leak").</param>
/// <param name="Leaks">Series with a leak verdict (instances and processes).</param>
/// <param name="SocketLeaks">Instances with a socket leak named.</param>
/// <param name="RowsRead">Aggregated rows read from the database (minute buckets).</param>
/// <param name="FullRead">Whether the whole lookback was read (first pass, and every hour) or only the minutes since the last pass.</param>
/// <param name="Deleted">Rows of series no longer seen that were deleted.</param>
/// <param name="Elapsed">Wall time of the pass.</param>
/// <param name="Reading">Of which reading the series.</param>
/// <param name="Projecting">Of which projecting.</param>
/// <param name="Writing">Of which writing the table.</param>
public sealed record ProjectionPassResult(
    int Instances, int Processes, int Projected, int Leaks, int SocketLeaks, int RowsRead, bool FullRead, int Deleted, TimeSpan Elapsed, TimeSpan Reading, TimeSpan Projecting, TimeSpan Writing);

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

    /// <summary>
    /// A "no leak" projection is computed again every <see cref="KeepNoLeakPasses"/> passes, not every pass (a fifth of
    /// them each pass, the longest kept first, and any kept for <see cref="KeepNoLeakAtMost"/>): the projector costs some
    /// milliseconds a series and most series do not leak. Leaks and series with too little data are computed every pass.
    /// </summary>
    public const int KeepNoLeakPasses = 5;

    public static readonly TimeSpan KeepNoLeakAtMost = TimeSpan.FromMinutes(10);

    private readonly Dictionary<(int ServiceId, string SeriesKey), SeriesProjection> _previous = [];

    private Func<int, string, SeriesProjection?> Reusable(DateTimeOffset now)
    {
        var noLeak = _previous.Values.Where(p => p.Result.Verdict == LeakVerdict.NoLeak && p.ProjectedAt <= now && now - p.ProjectedAt < KeepNoLeakAtMost).ToList();
        var due = noLeak
            .OrderBy(p => p.ProjectedAt)
            .ThenBy(p => (p.ServiceId, p.SeriesKey).GetHashCode())
            .Take((noLeak.Count + KeepNoLeakPasses - 1) / KeepNoLeakPasses)
            .Select(p => (p.ServiceId, p.SeriesKey))
            .ToHashSet();
        var kept = noLeak.Where(p => !due.Contains((p.ServiceId, p.SeriesKey))).ToDictionary(p => (p.ServiceId, p.SeriesKey));
        return (serviceId, seriesKey) => kept.GetValueOrDefault((serviceId, seriesKey));
    }

    /// <summary>Runs one pass at the clock's now.</summary>
    public async Task<ProjectionPassResult> RunPassAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var started = Stopwatch.GetTimestamp();
            var now = time.GetUtcNow();
            var (rows, full) = await _series.RefreshAsync(dataSource, now, _options.Lookback, ct);
            var read = Stopwatch.GetElapsedTime(started);
            var reuse = Reusable(now);
            var instances = ProjectionPass.Instances(_series, now, ProjectorOptions, reuse);
            var processes = ProjectionPass.Processes(_series, now, ProjectorOptions, reuse);
            SocketLeaks.Find(_series, instances, ProjectorOptions);
            var projected = Stopwatch.GetElapsedTime(started);
            var all = new List<SeriesProjection>(instances.Count + processes.Count);
            all.AddRange(instances);
            all.AddRange(processes);
            var (_, deleted) = await store.SaveAsync(all, ct);
            _previous.Clear();
            foreach (var p in all)
            {
                _previous[(p.ServiceId, p.SeriesKey)] = p;
            }
            var elapsed = Stopwatch.GetElapsedTime(started);
            var result = new ProjectionPassResult(
                instances.Count,
                processes.Count,
                all.Count(p => p.ProjectedAt == now),
                all.Count(p => p.Result.Verdict == LeakVerdict.Leak),
                instances.Count(p => p.SocketLeak is not null),
                rows,
                full,
                deleted,
                elapsed,
                Reading: read,
                Projecting: projected - read,
                Writing: elapsed - projected);
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
