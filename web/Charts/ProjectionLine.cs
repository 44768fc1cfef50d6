using Fleet.Web.Data;
using Fleet.Web.Display;

namespace Fleet.Web.Charts;

/// <summary>A dashed projection line on a chart: from the current level to the limit, beside the line it continues.</summary>
/// <param name="Line">The chart line it continues (its colour is taken).</param>
/// <param name="Name">What the legend says ("api: limit in 3 h 20 min").</param>
public sealed record ProjectionLine(string Line, string Name, DateTimeOffset From, double FromValue, DateTimeOffset To, double ToValue)
{
    /// <summary>
    /// The projection lines of instance projections with a leak toward a finite soft limit, one per line of the chart:
    /// <paramref name="lineOf"/> names the chart line (null leaves it out), <paramref name="scale"/> turns a level in
    /// fds into the chart's unit (fds, or % of the soft limit).
    /// </summary>
    public static IReadOnlyList<ProjectionLine> Of(IEnumerable<ProjectionView> projections, Func<ProjectionView, string?> lineOf, Func<ProjectionView, double, double> scale)
    {
        var lines = new List<ProjectionLine>();
        foreach (var p in projections)
        {
            if (p.Pid is not null || !ProjectionTexts.Projects(p) || lineOf(p) is not { } line || p.ExhaustedAt is not { } at)
            {
                continue;
            }
            lines.Add(new ProjectionLine(line, $"{line}: limit {ProjectionTexts.TimeToExhaustion(p)}", p.ComputedAt, scale(p, p.CurrentFds), at, scale(p, p.SoftLimit)));
        }
        return lines;
    }

    /// <summary>The restarts of the chart's instance projections (<paramref name="lineOf"/> not null), each time once, oldest first.</summary>
    public static IReadOnlyList<DateTimeOffset> RestartsOf(IEnumerable<ProjectionView> projections, Func<ProjectionView, string?> lineOf) =>
        [.. projections.Where(p => p.Pid is null && lineOf(p) is not null).SelectMany(p => p.Restarts).Distinct().Order()];
}
