using Fleet.Server.Api;
using Fleet.Server.Storage.Queries;
using Fleet.Web.Data;

namespace Fleet.Server.Dashboard;

/// <summary>
/// How a window's series are asked for (pure): the step (<see cref="SeriesRequest.DefaultStep"/>, rounded up to
/// the source's resolution), the source (<see cref="PostgresFleetQueries.ChooseSource"/>: raw, 1m or 1h rollups),
/// and the grid of buckets: steps aligned on 2000-01-01 UTC (as SQL's <c>date_bin</c> with that origin) from the
/// one holding <see cref="From"/> up to <see cref="To"/>. Rows count from <see cref="Lower"/>: the window's start for
/// raw samples, the start of the rollup bucket holding it for rollups. A reversed window is turned round, one
/// longer than <see cref="SeriesRequest.MaxRange"/> is cut to its last part, and times are kept within years
/// 2000 to 2200, so no window makes SQL fail or asks for more than about 300 points.
/// </summary>
internal sealed record SeriesPlan(DateTime From, DateTime To, DateTime Lower, DateTime GridStart, TimeSpan Step, string Source, TimeSpan Resolution, int Points)
{
    public static readonly DateTime Origin = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly DateTime Latest = new(2200, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly TimeSpan MinRange = TimeSpan.FromMinutes(1);

    public bool Raw => Resolution == TimeSpan.Zero;

    public static SeriesPlan For(TimeWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        var from = Clamp(window.From.UtcDateTime);
        var to = Clamp(window.To.UtcDateTime);
        if (to < from)
        {
            (from, to) = (to, from);
        }
        if (to - from < MinRange)
        {
            from = to - MinRange < Origin ? Origin : to - MinRange;
            to = from + MinRange;
        }
        if (to - from > SeriesRequest.MaxRange)
        {
            from = to - SeriesRequest.MaxRange;
        }
        var range = to - from;
        var step = SeriesRequest.DefaultStep(range);
        var (source, resolution) = PostgresFleetQueries.ChooseSource(range, step);
        if (resolution > TimeSpan.Zero)
        {
            step = TimeSpan.FromTicks((step.Ticks + resolution.Ticks - 1) / resolution.Ticks * resolution.Ticks);
        }
        var gridStart = Bin(from, step);
        int points = (int)((to - gridStart).Ticks / step.Ticks + ((to - gridStart).Ticks % step.Ticks == 0 ? 0 : 1));
        var lower = resolution == TimeSpan.Zero ? from : Bin(from, resolution);
        return new SeriesPlan(from, to, lower, gridStart, step, source, resolution, points);
    }

    /// <summary>The start of the bucket of <paramref name="size"/> holding <paramref name="t"/> (SQL: date_bin(size, t, '2000-01-01')).</summary>
    public static DateTime Bin(DateTime t, TimeSpan size) =>
        new(Origin.Ticks + (t.Ticks - Origin.Ticks) / size.Ticks * size.Ticks, DateTimeKind.Utc);

    public DateTimeOffset Time(int index) => new(GridStart.Ticks + index * Step.Ticks, TimeSpan.Zero);

    /// <summary>The point a bucket start falls on; -1 when outside the grid.</summary>
    public int Index(DateTime bucket)
    {
        long offset = bucket.Ticks - GridStart.Ticks;
        if (offset < 0)
        {
            return -1;
        }
        long i = offset / Step.Ticks;
        return i < Points ? (int)i : -1;
    }

    /// <summary>A series of gaps, to be filled where buckets have data.</summary>
    public double?[] Empty() => new double?[Points];

    public MetricSeries Series(string name, double?[] values) =>
        new(name, [.. values.Select((v, i) => new MetricPoint(Time(i), v))]);

    public SeriesSet Set(string metric, IReadOnlyList<MetricSeries> series) => new(metric, Step, Source, series);

    private static DateTime Clamp(DateTime t) => t < Origin ? Origin : t > Latest ? Latest : t;
}
