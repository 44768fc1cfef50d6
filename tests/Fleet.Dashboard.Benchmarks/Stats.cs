using System.Globalization;

namespace Fleet.Dashboard.Benchmarks;

/// <summary>Order statistics of a set of durations (nearest-rank percentiles).</summary>
internal sealed record Stats(int Count, double P50, double P95, double Max, double Mean)
{
    public static Stats Of(IEnumerable<TimeSpan> values)
    {
        double[] ms = [.. values.Select(v => v.TotalMilliseconds).Order()];
        if (ms.Length == 0)
        {
            return new Stats(0, double.NaN, double.NaN, double.NaN, double.NaN);
        }
        return new Stats(ms.Length, Rank(ms, 0.50), Rank(ms, 0.95), ms[^1], ms.Average());
    }

    private static double Rank(double[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"p50 {P50:0.0} ms, p95 {P95:0.0} ms, max {Max:0.0} ms (n={Count})");
}
