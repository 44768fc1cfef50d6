using System.Globalization;
using Fleet.Web.Data;

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
/// their rise in the run, and in both cases to below the run's steady level over the hour before: the end of a burst
/// of load drops back to that level, a restart below it) and keep only the current run.</item>
/// <item>The run must span <see cref="ProjectionOptions.MinRunDuration"/> and hold <see cref="ProjectionOptions.MinSamples"/>.</item>
/// <item>Fit a Theil–Sen line (median of pairwise slopes) to the run; a long run is first reduced to time buckets of
/// (median time, median fds), which also takes out spikes. The noise scale is 1.4826 × the median absolute residual.</item>
/// <item>A leak needs a slope several standard errors above zero and a minimum rise in fds (a flat series and a
/// daily cycle without a trend have a slope within a few standard errors of zero; the standard error counts the
/// residuals' correlation, so a slow swing is not taken for many independent points).</item>
/// <item>It must not be a one-off step: split the run in two at the best point with a jump allowed between two
/// separate lines, and the slope within the two parts must still be several standard errors above zero.</item>
/// <item>And it must persist: at the best break of a continuous two-segment line (between 40% and 90% of the run)
/// the slope after the break must not be significantly below half the slope before it (a stopped leak, a load
/// ramp that turned). The standard errors of these two tests come from the long-run variance of the fit's own
/// residuals (block means), which sees a slow wander under fast noise, so a leak under correlated noise is not
/// taken for a stop. Both tests see the buckets clipped to a running median, so a short burst of load does not bend
/// their least-squares lines.</item>
/// <item>Under nearly independent noise, the slope and level of an accepted leak come from least squares over the
/// readings within four noise scales of the robust line, and that line must pass the same significance and minimum
/// rise as the robust one.</item>
/// <item>The time to a limit is (limit − current level) / slope, the current level being the line at "now" (not
/// the last reading, which carries the noise).</item>
/// </list>
/// </remarks>
public static class LeakProjector
{
    private const double MadToSigma = 1.4826;
    private const double NoiseFloor = 0.5;
    private const double TrimNoiseScales = 4;
    private const int MinSplitPoints = 6;
    private const double SteadyQuantile = 0.1;
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
            return new Projection(LeakVerdict.InsufficientData, 0, 0, null, null, 0, null, [], null, "No samples up to now.");
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
            return new Projection(LeakVerdict.InsufficientData, 0, run[^1].OpenFds, null, null, 0, t0, restarts, cadence,
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
            return new Projection(LeakVerdict.NoLeak, slope, level, null, null, coverage, t0, restarts, cadence,
                string.Create(CultureInfo.InvariantCulture,
                    $"No significant rise: {fitted} (a leak needs a rise of {options.MinRiseFds:0.#} fds and {options.MinSlopeStandardErrors:0.#} standard errors).{restartNote}"));
        }

        var halfFrom = FirstAtOrAfter(bx, spanHours * 0.5, minimumTail: 0);
        var quarterFrom = FirstAtOrAfter(bx, spanHours * 0.75, minimumTail: 0);
        if (bx.Length - quarterFrom < 3)
        {
            return new Projection(LeakVerdict.InsufficientData, slope, level, null, null, 0, t0, restarts, cadence,
                $"Too few samples in the last quarter of the run to tell whether the rise persists: {fitted}.{restartNote}");
        }

        // The recent slopes are reported (and temper the quality figure); the stop test below decides.
        var halfSlope = TheilSenSlope(bx, by, halfFrom, bx.Length);
        var quarterSlope = TheilSenSlope(bx, by, quarterFrom, bx.Length);
        // Each recent part is compared with the part before it, not with the whole run, whose slope a stop
        // in the recent part has already pulled down.
        var beforeHalf = TheilSenSlope(bx, by, 0, halfFrom);
        var beforeQuarter = TheilSenSlope(bx, by, 0, quarterFrom);
        // The two tests fit least-squares lines, which one short burst of load can bend: they see the buckets
        // with bursts clipped to a running median (which keeps a step's or a stop's corner where it is).
        var clipped = ClipToRunningMedian(by, options.BurstClipHalfWidth);
        var stop = StopTest(bx, clipped, spanHours, options.MinRecentSlopeRatio);
        var split = SplitTest(bx, clipped, spanHours);
        // A step leaves no rise within its two flat parts: that slope must be significant and, over the run, rise
        // by the minimum too (a minute slope is "significant" when the noise is tiny).
        var stepRejects = split.Within < options.StepTestStandardErrors * split.WithinError || split.Within * spanHours < options.MinRiseFds;
        var stopRejects = stop.Contrast + (options.StopTestStandardErrors * stop.Error) < 0;
        var overruled = false;
        if ((stepRejects || stopRejects) && double.IsFinite(options.ModelComparisonMargin))
        {
            // Both tests take their noise from residuals that a slow wander under fast noise fools. Before either
            // refuses the rise, the models themselves are compared with AR(1)-plus-white errors: when a straight
            // line explains the run better (by the BIC margin) than a flat level, a step, a rise that stopped or a
            // daily cycle, the rise is a leak under correlated noise, not a step or a stop.
            var models = CompareModels(bx, clipped, spanHours);
            overruled = models.Slope > 0 && models.Margin >= options.ModelComparisonMargin;
            fitted += string.Create(CultureInfo.InvariantCulture,
                $"; with AR(1) plus white errors (correlation {models.Rho:0.00}) the line {(models.Margin >= 0 ? "beats" : "loses to")} the best no-leak model ({models.Rival}) by {Math.Abs(models.Margin):0.#} in BIC");
        }

        if (!overruled && stepRejects)
        {
            return new Projection(LeakVerdict.NoLeak, slope, level, null, null, coverage, t0, restarts, cadence,
                string.Create(CultureInfo.InvariantCulture,
                    $"The rise is a one-off step: {fitted}; but split at {Hours(split.Tau)} with a jump allowed, the slope within the two parts is {Signed(split.Within)} fds/h, {split.Within / split.WithinError:0.#} standard errors and {split.Within * spanHours:0.#} fds over the run (a leak needs {options.StepTestStandardErrors:0.#} and {options.MinRiseFds:0.#}).{restartNote}"));
        }

        var persists = stop.Contrast + (options.StopTestStandardErrors * stop.Error) >= 0;
        var stopBar = options.StopTestStandardErrors;
        if (!persists && options.StopTestBootstrapReplicates > 0)
        {
            // The statistic is the largest over the candidate breaks, and its error comes from residuals that
            // a slow wander fools: under heavy correlated noise a leak that goes on shows a "stop" of a few
            // standard errors often. Its bar is raised to what the same statistic reaches on replicates of a
            // continuing line with the noise of the break fit (an AR(1) fitted to its residuals).
            stopBar = Math.Max(stopBar, StopTestNullQuantile(bx, clipped, spanHours, stop, options));
            persists = stop.Contrast + (stopBar * stop.Error) >= 0;
        }

        if (!persists && !overruled)
        {
            return new Projection(LeakVerdict.NoLeak, slope, level, null, null, coverage, t0, restarts, cadence,
                string.Create(CultureInfo.InvariantCulture,
                    $"The rise does not persist: {fitted}; the best break is at {Hours(stop.Tau)}: {Signed(stop.After)} fds/h after it against {Signed(stop.Before)} before, {-stop.Contrast / stop.Error:0.#} standard errors below {options.MinRecentSlopeRatio:0.##} of it, beyond the {stopBar:0.#} a continuing rise under this noise reaches (a stopped leak or a load swing); the last half rises {Signed(halfSlope)} and the last quarter {Signed(quarterSlope)} fds/h.{restartNote}"));
        }

        var persistence = Math.Min(halfSlope / Math.Max(beforeHalf, slope), quarterSlope / Math.Max(beforeQuarter, slope));
        var quality = Math.Clamp(slope / standardError / (2 * options.MinSlopeStandardErrors), 0, 1)
            * Math.Clamp(persistence, 0, 1)
            * coverage;
        var finalNote = "";
        if (correlation < options.EfficientFitMaxCorrelation && TrimmedLeastSquares(x, y, slope, intercept) is { } efficient)
        {
            // The more efficient line must pass the same bar as the robust one: a marginal robust slope that the
            // least-squares line over every kept reading does not confirm is noise (or spikes) at the edge.
            if (efficient.Slope < options.MinSlopeStandardErrors * standardError || efficient.Slope * spanHours < options.MinRiseFds)
            {
                return new Projection(LeakVerdict.NoLeak, efficient.Slope, Math.Max(0, efficient.Intercept + (efficient.Slope * nowHours)), null, null, coverage, t0, restarts, cadence,
                    string.Create(CultureInfo.InvariantCulture,
                        $"Not confirmed: {fitted}; but least squares over the {efficient.Kept} readings within {TrimNoiseScales} noise scales of that line gives {Signed(efficient.Slope)} fds/h, {efficient.Slope / standardError:0.#} standard errors and {efficient.Slope * spanHours:0.#} fds over the run (a leak needs {options.MinSlopeStandardErrors:0.#} and {options.MinRiseFds:0.#}).{restartNote}"));
            }

            // The leak is decided; its slope and level now come from least squares over every reading of the run
            // that lies within a few noise scales of the robust line (spikes out), which wastes less of the data
            // than the median of pairwise slopes over buckets does.
            finalNote = string.Create(CultureInfo.InvariantCulture,
                $" Least squares over the {efficient.Kept} readings within {TrimNoiseScales} noise scales of that line: {Signed(efficient.Slope)} fds/h.");
            slope = efficient.Slope;
            level = Math.Max(0, efficient.Intercept + slope * nowHours);
        }

        if (options.CorrelatedNoiseRegression && correlation >= options.EfficientFitMaxCorrelation)
        {
            // Under correlated noise neither least squares nor the median of pairwise slopes weighs the readings
            // as the noise asks: the regression with AR(1)-plus-white errors does (generalised least squares).
            var ones = new double[bx.Length];
            Array.Fill(ones, 1.0);
            if (ArRegression([ones, bx], clipped) is { } gls && gls.Beta[1] > 0)
            {
                finalNote += string.Create(CultureInfo.InvariantCulture,
                    $" Under correlated noise the slope comes from a regression with AR(1) plus white errors (correlation {gls.Rho:0.00}): {Signed(gls.Beta[1])} fds/h.");
                slope = gls.Beta[1];
                level = Math.Max(0, gls.Beta[0] + (slope * nowHours));
            }
        }

        return new Projection(LeakVerdict.Leak, slope, level,
            TimeTo(softLimit, level, slope), TimeTo(hardLimit, level, slope), quality, t0, restarts, cadence,
            string.Create(CultureInfo.InvariantCulture,
                $"Leak: {fitted}; the last half rises {Signed(halfSlope)} and the last quarter {Signed(quarterSlope)} fds/h; at the best break, {Hours(stop.Tau)} in, {Signed(stop.After)} fds/h after against {Signed(stop.Before)} before ({stop.Contrast / stop.Error:0.#} standard errors from {options.MinRecentSlopeRatio:0.##} of it).{finalNote}{restartNote}"));
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

    /// <summary>
    /// The best-fitting continuous two-segment line (break between 40% and 90% of the span) and the contrast
    /// (slope after − ratio × slope before) with its standard error, the noise's long-run variance taken from
    /// the fit's own residuals (<see cref="LongRunVariance"/>).
    /// </summary>
    private static (double Tau, double Before, double After, double Contrast, double Error) StopTest(double[] x, double[] y, double span, double ratio)
    {
        var best = (Tau: double.NaN, Rss: double.PositiveInfinity, Beta: Array.Empty<double>(), Inverse: new double[3, 3]);
        for (var f = 0.4; f <= 0.9001; f += 0.05)
        {
            var tau = x[0] + (span * f);
            var tail = x.Length;
            while (tail > 0 && x[tail - 1] > tau)
            {
                tail--;
            }

            if (x.Length - tail < 10)
            {
                continue;
            }

            if (HingeFit(x, y, tau) is { } fit && fit.Rss < best.Rss)
            {
                best = (tau, fit.Rss, fit.Beta, fit.Inverse);
            }
        }

        if (double.IsNaN(best.Tau))
        {
            return (double.NaN, 0, 0, 0, double.PositiveInfinity);
        }

        var residuals = new double[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            residuals[i] = y[i] - (best.Beta[0] + (best.Beta[1] * x[i]) + (best.Beta[2] * Math.Max(0, x[i] - best.Tau)));
        }

        var lrv = LongRunVariance(residuals);
        double[] c = [0, 1 - ratio, 1];
        var variance = 0.0;
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                variance += c[i] * best.Inverse[i, j] * c[j];
            }
        }

        var before = best.Beta[1];
        var after = best.Beta[1] + best.Beta[2];
        return (best.Tau - x[0], before, after, after - (ratio * before), Math.Sqrt(Math.Max(0, variance * lrv)));
    }

    /// <summary>
    /// The <see cref="ProjectionOptions.StopTestBootstrapQuantile"/> quantile of the stop statistic (standard errors
    /// below the ratio) over replicates of the run under "the leak goes on": the least-squares line of the run plus
    /// AR(1) noise with the variance and lag-one correlation of the best break fit's residuals (the model that
    /// fits a stopped leak too, so a real stop does not pass for noise). The replicates are clipped like the run
    /// and come from a fixed seed, so the projector stays a pure function.
    /// </summary>
    private static double StopTestNullQuantile(double[] x, double[] y, double span, (double Tau, double Before, double After, double Contrast, double Error) stop, ProjectionOptions options)
    {
        var n = x.Length;
        var tau = x[0] + stop.Tau;
        var hinge = HingeFit(x, y, tau);
        if (hinge is not { } h)
        {
            return 0;
        }

        var residuals = new double[n];
        for (var i = 0; i < n; i++)
        {
            residuals[i] = y[i] - (h.Beta[0] + (h.Beta[1] * x[i]) + (h.Beta[2] * Math.Max(0, x[i] - tau)));
        }

        var scale = Math.Max(NoiseFloor, MadToSigma * MedianOf(n, i => Math.Abs(residuals[i])));
        // The lag-one correlation sees only the fast part of the noise; a slow wander shows in the long-run variance.
        // The AR(1) takes the larger of that correlation and the one whose long-run variance matches the residuals'
        // ((1 + φ) / (1 − φ) times the variance).
        var ratio = LongRunVariance(residuals) / (scale * scale);
        var phi = Math.Clamp(Math.Max(LagOneCorrelation(residuals, scale), (ratio - 1) / (ratio + 1)), 0, 0.99);
        var innovation = scale * Math.Sqrt(1 - (phi * phi));
        var line = LineFit(x, y, 0, n);
        var random = new Random(20261128);
        var replicates = options.StopTestBootstrapReplicates;
        var statistics = new double[replicates];
        var yStar = new double[n];
        for (var b = 0; b < replicates; b++)
        {
            var e = scale * Gauss(random);
            for (var i = 0; i < n; i++)
            {
                if (i > 0)
                {
                    e = (phi * e) + (innovation * Gauss(random));
                }

                yStar[i] = line.Intercept + (line.Slope * x[i]) + e;
            }

            var replicate = StopTest(x, ClipToRunningMedian(yStar, options.BurstClipHalfWidth), span, options.MinRecentSlopeRatio);
            statistics[b] = replicate.Error > 0 && !double.IsInfinity(replicate.Error) ? -replicate.Contrast / replicate.Error : 0;
        }

        Array.Sort(statistics);
        return statistics[Math.Min(replicates - 1, (int)Math.Floor(options.StopTestBootstrapQuantile * replicates))];
    }

    /// <summary>A daily cycle is one of the no-leak models only over a run this long: over less, half a cycle looks like a line.</summary>
    private const double CycleMinSpanHours = 20;

    private static readonly double[] RhoGrid = [0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995];
    private static readonly double[] WhiteShareGrid = [0, 0.1, 0.3, 1, 3];

    /// <summary>
    /// Regression of y on the given columns with errors that are an AR(1) process plus independent white noise
    /// (the reading noise on top of a wandering load), by the exact Gaussian likelihood: a Kalman filter whitens y and
    /// the columns for each (correlation, white-to-AR variance ratio) on a grid, and the best pair is kept. Returns
    /// −2 log-likelihood (without its constant), the coefficients, the correlation and the coefficients' covariance;
    /// null when the columns are collinear.
    /// </summary>
    private static (double Deviance, double[] Beta, double Rho, double[,] Covariance)? ArRegression(double[][] columns, double[] y)
    {
        var p = columns.Length;
        var n = y.Length;
        (double Deviance, double[] Beta, double Rho, double[,] Covariance)? best = null;
        var a = new double[p, p];
        var b = new double[p];
        var state = new double[p + 1];
        var row = new double[p];
        foreach (var rho in RhoGrid)
        {
            foreach (var q in WhiteShareGrid)
            {
                if (rho == 0 && q > 0)
                {
                    continue;
                }

                Array.Clear(a);
                Array.Clear(b);
                Array.Clear(state);
                var yy = 0.0;
                var logDet = 0.0;
                var variance = 1.0;
                for (var t = 0; t < n; t++)
                {
                    var predicted = t == 0 ? 1.0 : (rho * rho * variance) + (1 - (rho * rho));
                    var f = predicted + q;
                    var gain = predicted / f;
                    var scale = 1 / Math.Sqrt(f);
                    logDet += Math.Log(f);
                    for (var j = 0; j <= p; j++)
                    {
                        var value = j < p ? columns[j][t] : y[t];
                        var innovation = value - (rho * state[j]);
                        state[j] = (rho * state[j]) + (gain * innovation);
                        if (j < p)
                        {
                            row[j] = innovation * scale;
                        }
                        else
                        {
                            var ys = innovation * scale;
                            yy += ys * ys;
                            for (var k = 0; k < p; k++)
                            {
                                b[k] += row[k] * ys;
                                for (var m = 0; m <= k; m++)
                                {
                                    a[k, m] += row[k] * row[m];
                                }
                            }
                        }
                    }

                    variance = predicted * (1 - gain);
                }

                for (var j = 0; j < p; j++)
                {
                    for (var k = j + 1; k < p; k++)
                    {
                        a[j, k] = a[k, j];
                    }
                }

                if (InvertSymmetric(a, p) is not { } inverse)
                {
                    continue;
                }

                var beta = new double[p];
                var fitted = 0.0;
                for (var j = 0; j < p; j++)
                {
                    for (var k = 0; k < p; k++)
                    {
                        beta[j] += inverse[j, k] * b[k];
                    }

                    fitted += beta[j] * b[j];
                }

                var rss = Math.Max(1e-9, yy - fitted);
                var deviance = (n * Math.Log(rss / n)) + logDet;
                if (best is null || deviance < best.Value.Deviance)
                {
                    var sigma2 = rss / Math.Max(1, n - p);
                    var covariance = new double[p, p];
                    for (var j = 0; j < p; j++)
                    {
                        for (var k = 0; k < p; k++)
                        {
                            covariance[j, k] = inverse[j, k] * sigma2;
                        }
                    }

                    best = (deviance, beta, rho, covariance);
                }
            }
        }

        return best;
    }

    /// <summary>Gauss–Jordan inverse of a small symmetric matrix; null when (nearly) singular.</summary>
    private static double[,]? InvertSymmetric(double[,] m, int p)
    {
        var a = new double[p, 2 * p];
        for (var i = 0; i < p; i++)
        {
            for (var j = 0; j < p; j++)
            {
                a[i, j] = m[i, j];
            }

            a[i, p + i] = 1;
        }

        for (var c = 0; c < p; c++)
        {
            var pivot = c;
            for (var r = c + 1; r < p; r++)
            {
                if (Math.Abs(a[r, c]) > Math.Abs(a[pivot, c]))
                {
                    pivot = r;
                }
            }

            if (Math.Abs(a[pivot, c]) < 1e-10 * Math.Max(1, Math.Abs(m[c, c])))
            {
                return null;
            }

            if (pivot != c)
            {
                for (var j = 0; j < 2 * p; j++)
                {
                    (a[c, j], a[pivot, j]) = (a[pivot, j], a[c, j]);
                }
            }

            var d = a[c, c];
            for (var j = 0; j < 2 * p; j++)
            {
                a[c, j] /= d;
            }

            for (var r = 0; r < p; r++)
            {
                if (r != c && a[r, c] != 0)
                {
                    var f = a[r, c];
                    for (var j = 0; j < 2 * p; j++)
                    {
                        a[r, j] -= f * a[c, j];
                    }
                }
            }
        }

        var inverse = new double[p, p];
        for (var i = 0; i < p; i++)
        {
            for (var j = 0; j < p; j++)
            {
                inverse[i, j] = a[i, p + j];
            }
        }

        return inverse;
    }

    /// <summary>
    /// The no-leak and leak models compared by BIC with AR(1)-plus-white errors: the best no-leak model's name and its BIC minus
    /// the line's BIC (positive: the line is the better explanation), and the line's slope and its standard error.
    /// </summary>
    private static (string Rival, double Margin, double Slope, double SlopeError, double Rho) CompareModels(double[] x, double[] y, double span)
    {
        var n = x.Length;
        var lnN = Math.Log(n);
        var ones = new double[n];
        Array.Fill(ones, 1.0);
        var line = ArRegression([ones, x], y);
        if (line is not { } l)
        {
            return ("none", double.NegativeInfinity, 0, double.PositiveInfinity, 0);
        }

        var lineBic = l.Deviance + (2 * lnN);
        var rival = "flat";
        var rivalBic = (ArRegression([ones], y)?.Deviance ?? double.PositiveInfinity) + lnN;
        void Consider(string name, double[][] columns, int parameters)
        {
            if (ArRegression(columns, y) is { } fit && fit.Deviance + (parameters * lnN) < rivalBic)
            {
                rivalBic = fit.Deviance + (parameters * lnN);
                rival = name;
            }
        }

        // The change points are placed by least squares (every bucket a candidate), then fitted with AR(1) errors.
        if (BestSplit(x, y, 0.05, 0.95, stepModel: true) is { } stepTau)
        {
            Consider("step", [ones, x.Select(v => v >= stepTau ? 1.0 : 0.0).ToArray()], 3);
        }

        if (BestSplit(x, y, 0.2, 0.9, stepModel: false) is { } stopTau)
        {
            Consider("stopped", [ones, x.Select(v => Math.Min(v, stopTau)).ToArray()], 3);
        }

        if (span >= CycleMinSpanHours)
        {
            Consider("daily cycle", [ones, x.Select(v => Math.Sin(2 * Math.PI * v / 24)).ToArray(), x.Select(v => Math.Cos(2 * Math.PI * v / 24)).ToArray()], 3);
        }

        return (rival, rivalBic - lineBic, l.Beta[1], Math.Sqrt(Math.Max(0, l.Covariance[1, 1])), l.Rho);
    }

    /// <summary>
    /// The least-squares change point between the given fractions of the span: for a step, the split into two
    /// means; otherwise the knee of a line that turns flat (y on min(x, τ)). Null when no candidate.
    /// </summary>
    private static double? BestSplit(double[] x, double[] y, double fromFraction, double toFraction, bool stepModel)
    {
        var n = x.Length;
        var span = x[^1] - x[0];
        double? bestTau = null;
        var bestRss = double.PositiveInfinity;
        var total = 0.0;
        var totalSquares = 0.0;
        for (var i = 0; i < n; i++)
        {
            total += y[i];
            totalSquares += y[i] * y[i];
        }

        var left = 0.0;
        var leftSquares = 0.0;
        for (var k = 1; k < n; k++)
        {
            left += y[k - 1];
            leftSquares += y[k - 1] * y[k - 1];
            var tau = x[k];
            if (tau < x[0] + (fromFraction * span) || tau > x[0] + (toFraction * span) || k < 3 || n - k < 3)
            {
                continue;
            }

            double rss;
            if (stepModel)
            {
                var right = total - left;
                rss = (leftSquares - (left * left / k)) + (totalSquares - leftSquares - (right * right / (n - k)));
            }
            else
            {
                double sz = 0, szz = 0, szy = 0;
                for (var i = 0; i < n; i++)
                {
                    var z = Math.Min(x[i], tau);
                    sz += z;
                    szz += z * z;
                    szy += z * y[i];
                }

                var mz = sz / n;
                var my = total / n;
                var vzz = szz - (n * mz * mz);
                var vzy = szy - (n * mz * my);
                rss = totalSquares - (n * my * my) - (vzz > 0 ? vzy * vzy / vzz : 0);
            }

            if (rss < bestRss)
            {
                bestRss = rss;
                bestTau = stepModel ? (x[k - 1] + x[k]) / 2 : tau;
            }
        }

        return bestTau;
    }

    private static double Gauss(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>
    /// The best split of the run in two (break between 5% and 95% of the span, at least six points on each
    /// side) into two separate least-squares lines, a jump allowed between them. Returns the slope within the
    /// segments (their weighted mean, which a one-off step does not raise) and its standard error from the
    /// long-run variance of the two lines' residuals.
    /// </summary>
    private static (double Tau, double Within, double WithinError) SplitTest(double[] x, double[] y, double span)
    {
        var bestRss = double.PositiveInfinity;
        var bestSplit = -1;
        var from = Math.Max(MinSplitPoints, FirstAtOrAfter(x, x[0] + (span * 0.05), minimumTail: 0));
        var to = Math.Min(x.Length - MinSplitPoints, FirstAtOrAfter(x, x[0] + (span * 0.95), minimumTail: 0));
        for (var split = from; split <= to; split++)
        {

            var rss = LineFit(x, y, 0, split).Rss + LineFit(x, y, split, x.Length).Rss;
            if (rss < bestRss)
            {
                bestRss = rss;
                bestSplit = split;
            }
        }

        if (bestSplit < 0)
        {
            return (double.NaN, 0, double.PositiveInfinity);
        }

        var first = LineFit(x, y, 0, bestSplit);
        var second = LineFit(x, y, bestSplit, x.Length);
        var residuals = new double[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            var line = i < bestSplit ? first : second;
            residuals[i] = y[i] - (line.Intercept + (line.Slope * x[i]));
        }

        var lrv = LongRunVariance(residuals);
        var within = ((first.Slope * first.Sxx) + (second.Slope * second.Sxx)) / (first.Sxx + second.Sxx);
        var withinError = Math.Sqrt(lrv / (first.Sxx + second.Sxx));
        return (x[bestSplit] - x[0], within, withinError);
    }

    /// <summary>
    /// The values clipped to within <see cref="TrimNoiseScales"/> noise scales of their running median over
    /// 2 × <paramref name="halfWidth"/> + 1 points (the scale from the values' own distances to it): a burst
    /// shorter than half that window is taken back to the level around it; steps and corners keep their place.
    /// A half-width of 0 returns the values unchanged.
    /// </summary>
    private static double[] ClipToRunningMedian(double[] y, int halfWidth)
    {
        if (halfWidth <= 0 || y.Length < (2 * halfWidth) + 1)
        {
            return y;
        }

        var median = new double[y.Length];
        var window = new double[(2 * halfWidth) + 1];
        for (var i = 0; i < y.Length; i++)
        {
            var lo = Math.Max(0, i - halfWidth);
            var hi = Math.Min(y.Length, i + halfWidth + 1);
            y.AsSpan(lo, hi - lo).CopyTo(window);
            median[i] = Median(window.AsSpan(0, hi - lo));
        }

        var scale = Math.Max(NoiseFloor, MadToSigma * MedianOf(y.Length, i => Math.Abs(y[i] - median[i])));
        var limit = TrimNoiseScales * scale;
        var clipped = new double[y.Length];
        for (var i = 0; i < y.Length; i++)
        {
            clipped[i] = Math.Clamp(y[i], median[i] - limit, median[i] + limit);
        }

        return clipped;
    }

    /// <summary>Least squares over points [from, to): slope, intercept, residual sum of squares and the sum of squared x deviations.</summary>
    private static (double Slope, double Intercept, double Rss, double Sxx) LineFit(double[] x, double[] y, int from, int to)
    {
        var n = to - from;
        double sx = 0, sy = 0;
        for (var i = from; i < to; i++)
        {
            sx += x[i];
            sy += y[i];
        }

        double mx = sx / n, my = sy / n, sxx = 0, sxy = 0, syy = 0;
        for (var i = from; i < to; i++)
        {
            sxx += (x[i] - mx) * (x[i] - mx);
            sxy += (x[i] - mx) * (y[i] - my);
            syy += (y[i] - my) * (y[i] - my);
        }

        var slope = sxx > 0 ? sxy / sxx : 0;
        return (slope, my - (slope * mx), Math.Max(0, syy - (slope * sxy)), Math.Max(sxx, 1e-12));
    }

    /// <summary>Least squares of y on (1, x, max(0, x − tau)): coefficients, residual sum of squares and (X'X)⁻¹.</summary>
    private static (double[] Beta, double Rss, double[,] Inverse)? HingeFit(double[] x, double[] y, double tau)
    {
        var a = new double[3, 3];
        var b = new double[3];
        double s1 = 0, sx = 0, sh = 0, sxx = 0, sxh = 0, shh = 0, sy = 0, sxy = 0, shy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var hinge = Math.Max(0, x[i] - tau);
            s1++;
            sx += x[i];
            sh += hinge;
            sxx += x[i] * x[i];
            sxh += x[i] * hinge;
            shh += hinge * hinge;
            sy += y[i];
            sxy += x[i] * y[i];
            shy += hinge * y[i];
        }

        a[0, 0] = s1;
        a[0, 1] = a[1, 0] = sx;
        a[0, 2] = a[2, 0] = sh;
        a[1, 1] = sxx;
        a[1, 2] = a[2, 1] = sxh;
        a[2, 2] = shh;
        b[0] = sy;
        b[1] = sxy;
        b[2] = shy;

        if (Invert3(a) is not { } inverse)
        {
            return null;
        }

        var beta = new double[3];
        for (var j = 0; j < 3; j++)
        {
            for (var k = 0; k < 3; k++)
            {
                beta[j] += inverse[j, k] * b[k];
            }
        }

        var rss = 0.0;
        for (var i = 0; i < x.Length; i++)
        {
            var e = y[i] - (beta[0] + (beta[1] * x[i]) + (beta[2] * Math.Max(0, x[i] - tau)));
            rss += e * e;
        }

        return (beta, rss, inverse);
    }

    private static double[,]? Invert3(double[,] m)
    {
        var det = (m[0, 0] * ((m[1, 1] * m[2, 2]) - (m[1, 2] * m[2, 1])))
            - (m[0, 1] * ((m[1, 0] * m[2, 2]) - (m[1, 2] * m[2, 0])))
            + (m[0, 2] * ((m[1, 0] * m[2, 1]) - (m[1, 1] * m[2, 0])));
        if (Math.Abs(det) < 1e-12)
        {
            return null;
        }

        var r = new double[3, 3];
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                // Cofactor of m[j, i] over the determinant.
                int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
                r[i, j] = ((m[r0, c0] * m[r1, c1]) - (m[r0, c1] * m[r1, c0])) / det;
            }
        }

        return r;
    }

    /// <summary>
    /// The noise's long-run variance (the variance a mean over many correlated points behaves as if it had, per
    /// point): the largest of m × the variance of the means of blocks of m consecutive residuals, for m = 1, 2,
    /// 4, ... up to an eighth of the points. Residuals are first clipped to four noise scales so spikes do not
    /// decide it. Unlike a lag-one correlation it sees a slow wander under fast white noise.
    /// </summary>
    private static double LongRunVariance(double[] residuals)
    {
        var n = residuals.Length;
        var scale = Math.Max(NoiseFloor, MadToSigma * MedianOf(n, i => Math.Abs(residuals[i])));
        var clipped = residuals.Select(r => Math.Clamp(r, -4 * scale, 4 * scale)).ToArray();
        var best = 0.0;
        for (var m = 1; m <= Math.Max(1, n / 8); m *= 2)
        {
            var blocks = n / m;
            var means = new double[blocks];
            for (var k = 0; k < blocks; k++)
            {
                var sum = 0.0;
                for (var i = k * m; i < (k + 1) * m; i++)
                {
                    sum += clipped[i];
                }

                means[k] = sum / m;
            }

            var mean = means.Average();
            var variance = means.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, blocks - 1);
            best = Math.Max(best, m * variance);
        }

        return Math.Max(NoiseFloor * NoiseFloor, best);
    }

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
            // A burst of load (connections that come and go) ends with a drop as sharp as a restart's, but back to
            // the steady level the run had under the burst; a restart falls below that level too (the low end of
            // the readings over the window before the drop, which the bursts only ever lift).
            // The window stays within the later half of the run, so that a short run's own low start is not its steady level.
            var steadyWindow = TimeSpan.FromTicks(Math.Min(options.RestartSteadyWindow.Ticks, (s[j].Time - s[runStart].Time).Ticks / 2));
            var steady = WindowQuantile(s, runStart, j, s[j].Time - steadyWindow, SteadyQuantile);
            var belowSteady = steady is not { } steadyLevel || steadyLevel - postLevel >= Math.Max(options.MinRiseFds, sharp / 2);
            if (roseInRun && (fellBelowHalf || gaveBackTheRise) && belowSteady)
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

    /// <summary>The given quantile of the fds of the readings in [from, to) at or after the bound; null with fewer than three.</summary>
    private static double? WindowQuantile(FdSample[] s, int from, int to, DateTimeOffset bound, double quantile)
    {
        var lo = to;
        while (lo > from && s[lo - 1].Time >= bound)
        {
            lo--;
        }

        if (to - lo < 3)
        {
            return null;
        }

        var values = new double[to - lo];
        for (var i = lo; i < to; i++)
        {
            values[i - lo] = s[i].OpenFds;
        }

        Array.Sort(values);
        return values[(int)Math.Floor(quantile * (values.Length - 1))];
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
