using System.Globalization;

namespace Fleet.Server.Projection;

/// <summary>
/// Decides from a series of open-fds readings whether a process leaks descriptors and, if so, when it reaches its
/// limits. Pure: no clock, no I/O; "now" is a parameter.
/// </summary>
/// <remarks>
/// The steps, each one a check a person can redo on the chart:
/// <list type="number">
/// <item>Cut the series at restarts (the process start time changes, or the fds, after having risen, drop at once
/// to below half of the level just before, or by many times the reading-to-reading noise back to less than half of
/// their rise in the run) and keep only the current run.</item>
/// <item>The run must span <see cref="ProjectionOptions.MinRunDuration"/> and hold <see cref="ProjectionOptions.MinSamples"/>.</item>
/// <item>Fit a Theil–Sen line (median of pairwise slopes) to the run; a long run is first reduced to time buckets of
/// (median time, median fds), which also takes out spikes. The noise scale is 1.4826 × the median absolute residual.</item>
/// <item>A leak needs a slope several standard errors above zero and a minimum rise in fds (a flat series, a daily
/// cycle without a trend and a one-off step have a slope within a few standard errors of zero; the standard error
/// counts the residuals' correlation, so a slow swing is not taken for many independent points), and the slope must
/// persist: the last half must rise at 40% of the first half's slope at least, and the slopes of the last half and
/// of the last quarter, each judged by its own noise, must not be significantly below half the slope of the part of
/// the run before them (this rejects a leak that stopped and a load ramp that turned).</item>
/// <item>The time to a limit is (limit − current level) / slope, the current level being the line at "now" (not
/// the last reading, which carries the noise).</item>
/// </list>
/// </remarks>
public static class LeakProjector
{
    private const double MadToSigma = 1.4826;
    private const double NoiseFloor = 0.5;
    private const double TrimNoiseScales = 4;
    private static readonly TimeSpan Horizon = TimeSpan.FromDays(365 * 100);
    private static readonly ProjectionOptions Defaults = new();

    /// <summary>Projects one series.</summary>
    /// <param name="samples">Readings of one process or service instance, in any order; readings after <paramref name="now"/> are ignored.</param>
    /// <param name="softLimit">RLIMIT_NOFILE soft limit; null or negative for unlimited.</param>
    /// <param name="hardLimit">RLIMIT_NOFILE hard limit; null or negative for unlimited.</param>
    /// <param name="now">The time the projection is for.</param>
    /// <param name="options">Thresholds; the defaults when null.</param>
    public static Projection Project(
        IReadOnlyList<FdSample> samples, long? softLimit, long? hardLimit, DateTimeOffset now, ProjectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        options ??= Defaults;

        var series = samples.Where(s => s.Time <= now).OrderBy(s => s.Time).ToArray();
        if (series.Length == 0)
        {
            return new Projection(ProjectionVerdict.InsufficientData, 0, 0, null, null, 0, null, [], null, "No samples up to now.");
        }

        var restartIndexes = FindRestarts(series, options);
        var restarts = restartIndexes.Select(i => series[i].Time).ToArray();
        var cadence = Cadence(restarts);
        var runStart = restartIndexes.Count > 0 ? restartIndexes[^1] : 0;
        var run = new ArraySegment<FdSample>(series, runStart, series.Length - runStart);
        var t0 = run[0].Time;
        var spanHours = (run[^1].Time - t0).TotalHours;
        var restartNote = restarts.Length == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
            $" The run starts at the restart of {t0:u} ({restarts.Length} restart(s){(cadence is { } c ? $", about every {Hours(c.TotalHours)}" : "")}).");

        if (run.Count < options.MinSamples || spanHours < options.MinRunDuration.TotalHours)
        {
            return new Projection(ProjectionVerdict.InsufficientData, 0, run[^1].OpenFds, null, null, 0, t0, restarts, cadence,
                string.Create(CultureInfo.InvariantCulture,
                    $"The current run has {run.Count} samples over {Hours(spanHours)}; at least {options.MinSamples} over {Hours(options.MinRunDuration.TotalHours)} are needed.{restartNote}"));
        }

        var x = new double[run.Count];
        var y = new double[run.Count];
        for (var i = 0; i < run.Count; i++)
        {
            x[i] = (run[i].Time - t0).TotalHours;
            y[i] = run[i].OpenFds;
        }

        var (bx, by) = Bucket(x, y, options.MaxBuckets);
        var slope = TheilSenSlope(bx, by, 0, bx.Length);
        var intercept = MedianOf(bx.Length, i => by[i] - slope * bx[i]);
        var residuals = new double[bx.Length];
        for (var i = 0; i < bx.Length; i++)
        {
            residuals[i] = by[i] - (intercept + slope * bx[i]);
        }

        var noise = Math.Max(NoiseFloor, MadToSigma * MedianOf(residuals.Length, i => Math.Abs(residuals[i])));
        var correlation = LagOneCorrelation(residuals, noise);
        var rise = slope * spanHours;
        var standardError = SlopeStandardError(bx, 0, bx.Length, noise, correlation);
        var nowHours = (now - t0).TotalHours;
        var level = Math.Max(0, intercept + slope * nowHours);
        var coverage = Math.Clamp(spanHours / 6, 0, 1) * Math.Clamp(run.Count / (3.0 * options.MinSamples), 0, 1);
        var fitted = string.Create(CultureInfo.InvariantCulture,
            $"{Signed(slope)} fds/h over {Hours(spanHours)} ({run.Count} samples), a rise of {rise:0.#} fds; noise scale {noise:0.#}, residual correlation {correlation:0.00}, slope {slope / standardError:0.#} standard errors");

        if (slope <= 0 || rise < options.MinRiseFds || slope < options.MinSlopeStandardErrors * standardError)
        {
            return new Projection(ProjectionVerdict.NoLeak, slope, level, null, null, coverage, t0, restarts, cadence,
                string.Create(CultureInfo.InvariantCulture,
                    $"No significant rise: {fitted} (a leak needs a rise of {options.MinRiseFds:0.#} fds and {options.MinSlopeStandardErrors:0.#} standard errors).{restartNote}"));
        }

        var halfFrom = FirstAtOrAfter(bx, spanHours * 0.5, minimumTail: 0);
        var quarterFrom = FirstAtOrAfter(bx, spanHours * 0.75, minimumTail: 0);
        if (bx.Length - quarterFrom < 3)
        {
            return new Projection(ProjectionVerdict.InsufficientData, slope, level, null, null, 0, t0, restarts, cadence,
                $"Too few samples in the last quarter of the run to tell whether the rise persists: {fitted}.{restartNote}");
        }

        var (halfSlope, halfError) = SegmentFit(bx, by, halfFrom, bx.Length);
        var (quarterSlope, quarterError) = SegmentFit(bx, by, quarterFrom, bx.Length);
        // Each recent part is compared with the part before it, not with the whole run, whose slope a stop
        // in the recent part has already pulled down.
        var beforeHalf = TheilSenSlope(bx, by, 0, halfFrom);
        var beforeQuarter = TheilSenSlope(bx, by, 0, quarterFrom);
        var halfPersists = halfSlope >= options.MinHalfSlopeRatio * beforeHalf
            && PersistsCore(halfSlope, halfError, beforeHalf, options.MinRecentSlopeRatio);
        var quarterPersists = PersistsCore(quarterSlope, quarterError, beforeQuarter, options.MinRecentSlopeRatio);
        if (!halfPersists || !quarterPersists)
        {
            return new Projection(ProjectionVerdict.NoLeak, slope, level, null, null, coverage, t0, restarts, cadence,
                string.Create(CultureInfo.InvariantCulture,
                    $"The rise does not persist: {fitted}; but the last half rises {Signed(halfSlope)} fds/h against {Signed(beforeHalf)} before it, and the last quarter {Signed(quarterSlope)} against {Signed(beforeQuarter)} before it (a stopped leak or a load swing).{restartNote}"));
        }

        var persistence = Math.Min(halfSlope / Math.Max(beforeHalf, slope), quarterSlope / Math.Max(beforeQuarter, slope));
        var quality = Math.Clamp(slope / standardError / (2 * options.MinSlopeStandardErrors), 0, 1)
            * Math.Clamp(persistence, 0, 1)
            * coverage;
        var finalNote = "";
        if (correlation < options.EfficientFitMaxCorrelation && TrimmedLeastSquares(x, y, slope, intercept) is { } efficient && efficient.Slope > 0)
        {
            // The leak is decided; its slope and level now come from least squares over every reading of the run
            // that lies within a few noise scales of the robust line (spikes out), which wastes less of the data
            // than the median of pairwise slopes over buckets does.
            finalNote = string.Create(CultureInfo.InvariantCulture,
                $" Least squares over the {efficient.Kept} readings within {TrimNoiseScales} noise scales of that line: {Signed(efficient.Slope)} fds/h.");
            slope = efficient.Slope;
            level = Math.Max(0, efficient.Intercept + slope * nowHours);
        }

        return new Projection(ProjectionVerdict.Leak, slope, level,
            TimeTo(softLimit, level, slope), TimeTo(hardLimit, level, slope), quality, t0, restarts, cadence,
            string.Create(CultureInfo.InvariantCulture,
                $"Leak: {fitted}; the last half rises {Signed(halfSlope)} and the last quarter {Signed(quarterSlope)} fds/h.{finalNote}{restartNote}"));
    }

    /// <summary>
    /// Least squares over the readings whose residual from the robust line is within <see cref="TrimNoiseScales"/>
    /// noise scales (the scale from the readings' own residuals), refitted twice so the kept set follows the line;
    /// null when fewer than three readings are kept.
    /// </summary>
    private static (double Slope, double Intercept, int Kept)? TrimmedLeastSquares(double[] x, double[] y, double slope, double intercept)
    {
        var noise = Math.Max(NoiseFloor, MadToSigma * MedianOf(x.Length, i => Math.Abs(y[i] - (intercept + slope * x[i]))));
        var limit = TrimNoiseScales * noise;
        (double Slope, double Intercept, int Kept)? fit = null;
        for (var round = 0; round < 3; round++)
        {
            double n = 0, sx = 0, sy = 0;
            for (var i = 0; i < x.Length; i++)
            {
                if (Math.Abs(y[i] - (intercept + slope * x[i])) <= limit)
                {
                    n++;
                    sx += x[i];
                    sy += y[i];
                }
            }

            if (n < 3)
            {
                return fit;
            }

            double mx = sx / n, my = sy / n, sxx = 0, sxy = 0;
            for (var i = 0; i < x.Length; i++)
            {
                if (Math.Abs(y[i] - (intercept + slope * x[i])) <= limit)
                {
                    sxx += (x[i] - mx) * (x[i] - mx);
                    sxy += (x[i] - mx) * (y[i] - my);
                }
            }

            if (sxx <= 0)
            {
                return fit;
            }

            slope = sxy / sxx;
            intercept = my - (slope * mx);
            fit = (slope, intercept, (int)n);
        }

        return fit;
    }

    /// <summary>The Theil–Sen slope of points [from, to) and its standard error from that segment's own residuals.</summary>
    private static (double Slope, double Error) SegmentFit(double[] x, double[] y, int from, int to)
    {
        var slope = TheilSenSlope(x, y, from, to);
        var intercept = MedianOf(to - from, i => y[from + i] - slope * x[from + i]);
        var residuals = new double[to - from];
        for (var i = 0; i < residuals.Length; i++)
        {
            residuals[i] = y[from + i] - (intercept + slope * x[from + i]);
        }

        var noise = Math.Max(NoiseFloor, MadToSigma * MedianOf(residuals.Length, i => Math.Abs(residuals[i])));
        return (slope, SlopeStandardError(x, from, to, noise, LagOneCorrelation(residuals, noise)));
    }

    /// <summary>
    /// A recent slope persists when it rises and is not significantly (two standard errors) below the given
    /// fraction of the whole run's slope.
    /// </summary>
    private static bool PersistsCore(double recentSlope, double recentError, double slope, double ratio) =>
        recentSlope + (2 * recentError) >= ratio * slope;

    /// <summary>
    /// The standard error of a slope fitted to points [from, to) with the given noise scale, inflated for the
    /// residuals' lag-one correlation (effective count n(1 − ρ)/(1 + ρ)).
    /// </summary>
    private static double SlopeStandardError(double[] x, int from, int to, double noise, double correlation)
    {
        var n = to - from;
        var mean = 0.0;
        for (var i = from; i < to; i++)
        {
            mean += x[i];
        }

        mean /= n;
        var sxx = 0.0;
        for (var i = from; i < to; i++)
        {
            sxx += (x[i] - mean) * (x[i] - mean);
        }

        var effective = Math.Max(2, n * (1 - correlation) / (1 + correlation));
        return sxx <= 0 ? double.PositiveInfinity : noise / Math.Sqrt(sxx) * Math.Sqrt(n / effective);
    }

    /// <summary>The lag-one autocorrelation of the residuals, each clipped to three noise scales (so spikes do not decide it), in [0, 0.99].</summary>
    private static double LagOneCorrelation(double[] residuals, double noise)
    {
        if (residuals.Length < 3)
        {
            return 0;
        }

        var clip = 3 * noise;
        double sum = 0, sumSquares = 0;
        for (var i = 0; i < residuals.Length; i++)
        {
            var r = Math.Clamp(residuals[i], -clip, clip);
            sum += r;
            sumSquares += r * r;
        }

        var mean = sum / residuals.Length;
        var variance = (sumSquares / residuals.Length) - (mean * mean);
        if (variance <= 0)
        {
            return 0;
        }

        double lagged = 0;
        for (var i = 1; i < residuals.Length; i++)
        {
            lagged += (Math.Clamp(residuals[i], -clip, clip) - mean) * (Math.Clamp(residuals[i - 1], -clip, clip) - mean);
        }

        return Math.Clamp(lagged / (residuals.Length - 1) / variance, 0, 0.99);
    }

    /// <summary>True when a limit is unlimited (null, negative as stored, or RLIM_INFINITY-sized).</summary>
    public static bool IsUnlimited(long? limit) => limit is null or < 0 or >= 1L << 62;

    private static TimeSpan? TimeTo(long? limit, double level, double slope)
    {
        if (IsUnlimited(limit))
        {
            return null;
        }

        var hours = Math.Max(0, (limit!.Value - level) / slope);
        return hours >= Horizon.TotalHours ? null : TimeSpan.FromHours(hours);
    }

    /// <summary>Indexes of the first sample of each new run.</summary>
    private static List<int> FindRestarts(FdSample[] s, ProjectionOptions options)
    {
        var restarts = new List<int>();
        var runStart = 0;
        // The reading-to-reading noise (robust standard deviation of one reading, from consecutive differences); a
        // restart that does not halve the fds must drop by several of it at once.
        var sharp = s.Length < 2 ? double.PositiveInfinity
            : options.RestartDropInNoiseScales * Math.Max(NoiseFloor, MadToSigma / Math.Sqrt(2) * MedianOf(s.Length - 1, i => Math.Abs(s[i + 1].OpenFds - s[i].OpenFds)));
        for (var j = 1; j < s.Length; j++)
        {
            if (s[j].ProcessStart is { } started && s[j - 1].ProcessStart is { } before && started != before)
            {
                restarts.Add(j);
                runStart = j;
                continue;
            }

            // Cheap test first: a sharp drop between two consecutive readings, to below half, or by far more than
            // the reading-to-reading noise.
            var drop = s[j - 1].OpenFds - s[j].OpenFds;
            var halved = s[j].OpenFds < options.RestartDropFraction * s[j - 1].OpenFds;
            if (!halved && drop < sharp)
            {
                continue;
            }

            // Then the levels around it, as medians over a window, so that the end of a spike is not a restart.
            var pre = WindowMedian(s, runStart, j, s[j].Time - options.RestartLevelWindow, before: true);
            var post = WindowMedian(s, j, s.Length, s[j].Time + options.RestartLevelWindow, before: false);
            if (pre is not { } preLevel || post is not { } postLevel)
            {
                continue;
            }

            var startLevel = WindowMedian(s, runStart, j, s[runStart].Time + options.RestartLevelWindow, before: false) ?? preLevel;
            var roseInRun = preLevel - startLevel >= options.MinRiseFds;
            var fellBelowHalf = postLevel < options.RestartDropFraction * preLevel && preLevel - postLevel >= options.MinRiseFds;
            var gaveBackTheRise = preLevel - postLevel >= Math.Max(options.MinRiseFds, sharp)
                && postLevel - startLevel <= options.RestartDropFraction * (preLevel - startLevel);
            if (roseInRun && (fellBelowHalf || gaveBackTheRise))
            {
                restarts.Add(j);
                runStart = j;
            }
        }

        return restarts;
    }

    /// <summary>
    /// The median fds of the readings in [from, to) that lie within the window bound (before: at or after the bound,
    /// counting back from to; otherwise: before the bound, counting on from from), widened to three readings; null with fewer than three.
    /// </summary>
    private static double? WindowMedian(FdSample[] s, int from, int to, DateTimeOffset bound, bool before)
    {
        if (to - from < 3)
        {
            return null;
        }

        int lo, hi;
        if (before)
        {
            hi = to;
            lo = to - 3;
            while (lo > from && s[lo - 1].Time >= bound)
            {
                lo--;
            }
        }
        else
        {
            lo = from;
            hi = from + 3;
            while (hi < to && s[hi].Time < bound)
            {
                hi++;
            }
        }

        return MedianOf(hi - lo, i => s[lo + i].OpenFds);
    }

    private static TimeSpan? Cadence(DateTimeOffset[] restarts)
    {
        if (restarts.Length < 2)
        {
            return null;
        }

        return TimeSpan.FromTicks((long)MedianOf(restarts.Length - 1, i => (restarts[i + 1] - restarts[i]).Ticks));
    }

    /// <summary>
    /// Reduces a long series to at most <paramref name="maxBuckets"/> equal-time buckets of (median time,
    /// interquartile mean of the values: the mean of the middle half, as steady as a mean under plain noise and
    /// as deaf as a median to a spike that covers less than a quarter of the bucket).
    /// </summary>
    private static (double[] X, double[] Y) Bucket(double[] x, double[] y, int maxBuckets)
    {
        if (x.Length <= maxBuckets)
        {
            return (x, y);
        }

        var width = (x[^1] - x[0]) / maxBuckets;
        var bx = new List<double>(maxBuckets);
        var by = new List<double>(maxBuckets);
        var start = 0;
        while (start < x.Length)
        {
            var bucket = Math.Min(maxBuckets - 1, (int)((x[start] - x[0]) / width));
            var end = start + 1;
            while (end < x.Length && Math.Min(maxBuckets - 1, (int)((x[end] - x[0]) / width)) == bucket)
            {
                end++;
            }

            var first = start;
            bx.Add(x[first + ((end - first) / 2)]);
            by.Add(InterquartileMean(y.AsSpan(first, end - first)));
            start = end;
        }

        return (bx.ToArray(), by.ToArray());
    }

    /// <summary>The median of the slopes between all pairs of points in [from, to) with distinct times.</summary>
    private static double TheilSenSlope(double[] x, double[] y, int from, int to)
    {
        var n = to - from;
        var slopes = new double[n * (n - 1) / 2];
        var count = 0;
        for (var i = from; i < to; i++)
        {
            for (var j = i + 1; j < to; j++)
            {
                var dx = x[j] - x[i];
                if (dx > 0)
                {
                    slopes[count++] = (y[j] - y[i]) / dx;
                }
            }
        }

        return count == 0 ? 0 : Median(slopes.AsSpan(0, count));
    }

    private static int FirstAtOrAfter(double[] sortedX, double value, int minimumTail)
    {
        var index = Array.BinarySearch(sortedX, value);
        if (index < 0)
        {
            index = ~index;
        }
        else
        {
            while (index > 0 && sortedX[index - 1] >= value)
            {
                index--;
            }
        }

        return Math.Max(0, Math.Min(index, sortedX.Length - minimumTail));
    }

    private static double InterquartileMean(ReadOnlySpan<double> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        var drop = sorted.Length / 4;
        var sum = 0.0;
        for (var i = drop; i < sorted.Length - drop; i++)
        {
            sum += sorted[i];
        }

        return sum / (sorted.Length - (2 * drop));
    }

    private static double MedianOf(int count, Func<int, double> value)
    {
        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = value(i);
        }

        return Median(values);
    }

    private static double Median(Span<double> values)
    {
        if (values.Length == 0)
        {
            return 0;
        }

        values.Sort();
        var mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    private static string Hours(double hours) =>
        hours < 1 ? string.Create(CultureInfo.InvariantCulture, $"{hours * 60:0} min") : string.Create(CultureInfo.InvariantCulture, $"{hours:0.#} h");

    private static string Signed(double value) => value.ToString("+0.##;-0.##;0", CultureInfo.InvariantCulture);
}
