using System.Globalization;

namespace Fleet.Server.Projection;

/// <summary>One series' projection as a pass computed it, keyed as the projections table keys it.</summary>
internal sealed record SeriesProjection(
    int HostId,
    int ServiceId,
    string SeriesKey,
    int? Pid,
    string? Command,
    Projection Result,
    long SoftLimit,
    long HardLimit,
    DateTimeOffset ComputedAt,
    FoundSocketLeak? SocketLeak = null)
{
    /// <summary>The pass that computed it (a projection may be kept for a few passes, see <see cref="ProjectionJob"/>).</summary>
    public DateTimeOffset ProjectedAt { get; init; }
}

/// <summary>CLOSE_WAIT toward one remote endpoint that grows with the fds.</summary>
internal sealed record FoundSocketLeak(string Remote, double SlopePerHour, long CloseWaitNow, double ShareOfFdRise);

/// <summary>
/// Builds the series of one pass from the buckets and projects them (pure: no I/O). An instance's series is its
/// worst process's fds (the process the instance's limits are those of), cut at restarts by the projector's drop
/// detection. A process series is every life of one command name in one service instance, in time order, each life
/// marked with its start, so a restarted process continues its series with a restart marker; when several processes
/// with the same name live side by side (workers), each pid is a series of its own.
/// </summary>
internal static class ProjectionPass
{
    /// <summary>A series without a reading for this long is quiet: an instance is projected at its last reading, a process is dropped.</summary>
    public static readonly TimeSpan QuietAfter = TimeSpan.FromMinutes(10);

    /// <summary>Two lives of one name that overlap by more than this many minutes run side by side (a restart overlaps by one or two).</summary>
    private const int SideBySideBuckets = 2;

    /// <summary>The projection of every instance; <paramref name="reuse"/> gives the previous projection of a (service, series key) when it need not be computed again this pass.</summary>
    public static List<SeriesProjection> Instances(StoredSeries series, DateTimeOffset now, ProjectionOptions? options = null, Func<int, string, SeriesProjection?>? reuse = null)
    {
        var result = new List<SeriesProjection>(series.Instances.Count);
        foreach (var (key, buffer) in series.Instances)
        {
            if (reuse?.Invoke(key.ServiceId, "") is { } previous)
            {
                result.Add(previous);
                continue;
            }
            var at = buffer.Last < now - QuietAfter ? buffer.Last : now;
            var samples = buffer.Buckets.Select(b => new FdSample(b.Time, (long)Math.Round(b.Fds))).ToArray();
            var projection = LeakProjector.Project(samples, Limit(buffer.Soft), Limit(buffer.Hard), at, options);
            result.Add(new SeriesProjection(key.HostId, key.ServiceId, "", null, null, projection, Stored(buffer.Soft), Stored(buffer.Hard), at) { ProjectedAt = now });
        }
        return result;
    }

    /// <summary>The projection of every process series; <paramref name="reuse"/> as for <see cref="Instances"/>.</summary>
    public static List<SeriesProjection> Processes(StoredSeries series, DateTimeOffset now, ProjectionOptions? options = null, Func<int, string, SeriesProjection?>? reuse = null)
    {
        var result = new List<SeriesProjection>();
        foreach (var group in series.Processes.GroupBy(p => (p.Key.HostId, p.Key.ServiceId, p.Key.Comm)))
        {
            if (!group.Any(l => l.Value.Last >= now - QuietAfter))
            {
                continue;
            }
            var lives = group.OrderBy(p => p.Value.Buckets[0].Start).ToList();
            if (SideBySide(lives))
            {
                foreach (var life in lives.Where(l => l.Value.Last >= now - QuietAfter).GroupBy(l => l.Key.Pid).Select(g => g.MaxBy(l => l.Value.Last)))
                {
                    string seriesKey = $"{group.Key.Comm}#{life.Key.Pid}";
                    result.Add(reuse?.Invoke(group.Key.ServiceId, seriesKey) ?? Project(group.Key, seriesKey, [life], now, options));
                }
            }
            else
            {
                result.Add(reuse?.Invoke(group.Key.ServiceId, group.Key.Comm) ?? Project(group.Key, group.Key.Comm, lives, now, options));
            }
        }
        return result;
    }

    /// <summary>A soft limit as the projector takes it: null when unlimited (-1) or unknown (0).</summary>
    public static long? Limit(int stored) => stored <= 0 ? null : stored;

    /// <summary>A limit as the table keeps it: 0 when unlimited or unknown.</summary>
    public static long Stored(int stored) => stored <= 0 ? 0 : stored;

    public static string Hours(TimeSpan t) => t.TotalHours >= 48
        ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalDays:0.#} d")
        : string.Create(CultureInfo.InvariantCulture, $"{t.TotalHours:0.#} h");

    private static bool SideBySide(List<KeyValuePair<ProcessKey, SeriesBuffer>> lives)
    {
        long sideBySide = SideBySideBuckets * StoredSeries.BucketSize.Ticks;
        long lastEnd = long.MinValue;
        foreach (var life in lives)
        {
            if (lastEnd != long.MinValue && life.Value.Buckets[0].Start < lastEnd - sideBySide)
            {
                return true;
            }
            lastEnd = Math.Max(lastEnd, life.Value.Buckets[^1].Start);
        }
        return false;
    }

    private static SeriesProjection Project(
        (int HostId, int ServiceId, string Comm) name, string seriesKey, List<KeyValuePair<ProcessKey, SeriesBuffer>> lives, DateTimeOffset now, ProjectionOptions? options)
    {
        var samples = lives
            .SelectMany(l => l.Value.Buckets.Select(b => new FdSample(b.Time, (long)Math.Round(b.Fds), DateTimeOffset.UnixEpoch.AddTicks(l.Key.StartTicks))))
            .OrderBy(s => s.Time)
            .ToArray();
        var latest = lives.MaxBy(l => l.Value.Last);
        var projection = LeakProjector.Project(samples, Limit(latest.Value.Soft), Limit(latest.Value.Hard), now, options);
        return new SeriesProjection(name.HostId, name.ServiceId, seriesKey, latest.Key.Pid, name.Comm, projection,
            Stored(latest.Value.Soft), Stored(latest.Value.Hard), now) { ProjectedAt = now };
    }
}
