using Fleet.Server.Projection;

namespace Fleet.Projection.Benchmarks;

/// <summary>One generated series with its ground truth.</summary>
/// <param name="Samples">The readings, oldest first; the last one is at <paramref name="Now"/>.</param>
/// <param name="SoftLimit">The soft limit, chosen so that the true time to it is known.</param>
/// <param name="HardLimit">The hard limit (twice the soft one; not scored).</param>
/// <param name="Now">The time the projection is for.</param>
/// <param name="TrueHoursToSoft">Hours from now until the true (noise-free) fds reach the soft limit; null when there is no leak.</param>
internal sealed record GeneratedSeries(FdSample[] Samples, long SoftLimit, long HardLimit, DateTimeOffset Now, double? TrueHoursToSoft);

/// <summary>A family of series: a name, whether it leaks, and a generator.</summary>
/// <param name="Name">Shown in the table.</param>
/// <param name="Leaks">True when every series of the family has a true time to the limit.</param>
/// <param name="InVerdict">False for a family kept only to show a known limit.</param>
/// <param name="Generate">Makes one series from the family's random source.</param>
internal sealed record Family(string Name, bool Leaks, bool InVerdict, Func<Random, GeneratedSeries> Generate);
