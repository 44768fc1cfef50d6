using Fleet.Server.Projection;

namespace Fleet.Projection.Benchmarks;

/// <summary>
/// The baseline: an ordinary least-squares line over the whole window. "Plain" projects whenever the slope is
/// positive; "t ≥ 3" only when the slope is three standard errors above zero (errors taken as independent).
/// </summary>
internal static class LeastSquaresBaseline
{
    public static (double? Plain, double? Significant) HoursToLimit(FdSample[] samples, long limit, DateTimeOffset now)
    {
        var t0 = samples[0].Time;
        var n = samples.Length;
        double sx = 0, sy = 0;
        foreach (var s in samples)
        {
            sx += (s.Time - t0).TotalHours;
            sy += s.OpenFds;
        }

        var mx = sx / n;
        var my = sy / n;
        double sxx = 0, sxy = 0;
        foreach (var s in samples)
        {
            var dx = (s.Time - t0).TotalHours - mx;
            sxx += dx * dx;
            sxy += dx * (s.OpenFds - my);
        }

        var slope = sxy / sxx;
        var intercept = my - (slope * mx);
        double sse = 0;
        foreach (var s in samples)
        {
            var e = s.OpenFds - (intercept + (slope * (s.Time - t0).TotalHours));
            sse += e * e;
        }

        if (slope <= 0)
        {
            return (null, null);
        }

        var level = intercept + (slope * (now - t0).TotalHours);
        var hours = Math.Max(0, (limit - level) / slope);
        var standardError = Math.Sqrt(sse / (n - 2) / sxx);
        return (hours, slope >= 3 * standardError ? hours : null);
    }
}
