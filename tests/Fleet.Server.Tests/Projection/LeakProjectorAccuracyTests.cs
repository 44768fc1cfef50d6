using Fleet.Server.Projection;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Projection;

/// <summary>The behaviours added to make the projector at least as accurate as least squares where least squares is right.</summary>
public sealed class LeakProjectorAccuracyTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void LeakUnderPlainNoise_TakesItsSlopeFromLeastSquaresOverEveryReading()
    {
        // Under independent noise least squares over all 721 readings is the most efficient line; the median of
        // pairwise slopes over buckets gives a slightly different one.
        var noise = new Random(11);
        var samples = Series(12, TimeSpan.FromMinutes(1), h => 300 + (20 * h) + (15 * Gauss(noise)));
        var (slope, _) = LeastSquares(samples);

        var p = LeakProjector.Project(samples, 4000, 8000, samples[^1].Time);
        var robust = LeakProjector.Project(samples, 4000, 8000, samples[^1].Time, new ProjectionOptions { EfficientFitMaxCorrelation = 0 });

        Assert.Equal(LeakVerdict.Leak, p.Verdict);
        Assert.Equal(slope, p.SlopePerHour, 1e-9);
        Assert.NotEqual(slope, robust.SlopePerHour, 1e-6);
        Assert.Contains("Least squares", p.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void LeakUnderPlainNoiseWithSpikes_KeepsTheSpikesOutOfTheLeastSquaresFit()
    {
        // Every 30 min one reading jumps by 3000 fds: least squares over all readings is pulled, the trimmed one is not.
        var noise = new Random(12);
        var samples = Series(12, TimeSpan.FromMinutes(1), h => 300 + (20 * h) + (15 * Gauss(noise)) + ((int)Math.Round(h * 60) % 30 == 29 && h > 6 ? 3000 : 0));

        var p = LeakProjector.Project(samples, 4000, 8000, samples[^1].Time);

        Assert.Equal(LeakVerdict.Leak, p.Verdict);
        Assert.InRange(p.SlopePerHour, 19, 21);
        Assert.True(LeastSquares(samples).Slope > 25, "the spikes must pull plain least squares, or this test shows nothing");
    }

    [Fact]
    public void RiseThatIsOneStep_IsNoLeakByTheSlopeWithinItsFlatParts()
    {
        // Flat at 400, a jump to 700 half-way, flat again. With the whole-run significance gate off (it would also
        // refuse this rise), the slope within the two flat parts, a jump allowed between them, is what refuses it.
        var noise = new Random(14);
        var samples = Series(10, TimeSpan.FromMinutes(1), h => (h < 5 ? 400 : 700) + (6 * Gauss(noise)));

        var p = LeakProjector.Project(samples, 2000, 4000, samples[^1].Time, new ProjectionOptions { MinSlopeStandardErrors = 0 });

        Assert.True(p.Verdict == LeakVerdict.NoLeak && p.Reason.Contains("step", StringComparison.Ordinal), p.Reason);
        Assert.Null(p.TimeToSoftLimit);
    }

    [Fact]
    public void StepOverATinyDrift_IsNoLeakThoughTheDriftIsSignificant()
    {
        // A 300-fd step half-way over a drift of 0.1 fds/h under near-zero noise: the drift within the two parts
        // is many standard errors above zero but adds one fd over the run, far below the minimum rise.
        var noise = new Random(16);
        var samples = Series(10, TimeSpan.FromMinutes(1), h => 400 + (0.1 * h) + (h < 5 ? 0 : 300) + (0.5 * Gauss(noise)));

        var p = LeakProjector.Project(samples, 2000, 4000, samples[^1].Time, new ProjectionOptions { MinSlopeStandardErrors = 0 });

        Assert.True(p.Verdict == LeakVerdict.NoLeak && p.Reason.Contains("step", StringComparison.Ordinal), p.Reason);
    }

    [Fact]
    public void LeakThatStoppedUnderCorrelatedNoise_IsNoLeak()
    {
        // 40 fds/h for 9 h, then flat for 5 h, under slow correlated noise: the best break is at the stop and the
        // slope after it is far below half the slope before, in units of the noise's long-run deviation.
        var noise = new Random(15);
        var wander = 0.0;
        var samples = Series(14, TimeSpan.FromMinutes(1), h =>
        {
            wander = (0.97 * wander) + (3 * Gauss(noise));
            return 300 + (40 * Math.Min(h, 9)) + wander + (5 * Gauss(noise));
        });

        var p = LeakProjector.Project(samples, 4000, 8000, samples[^1].Time);

        Assert.Equal(LeakVerdict.NoLeak, p.Verdict);
        Assert.Contains("persist", p.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void EndOfALoadBurst_IsNotARestart()
    {
        // A slow leak (20/h on 10,000 fds) with four 8-minute bursts of +3000 connections that end at once: each end
        // drops by far more than the noise and gives back the "rise" the burst made, but only to the steady level.
        var noise = new Random(21);
        double[] burstsAt = [3, 5.5, 8, 10.5];
        var samples = Series(12, TimeSpan.FromSeconds(10), h =>
            10_000 + (20 * h) + (5 * Gauss(noise)) + (burstsAt.Any(b => h >= b && h < b + (8.0 / 60)) ? 3000 : 0));

        var p = LeakProjector.Project(samples, 20_000, 40_000, samples[^1].Time);
        var withoutSteadyLevel = LeakProjector.Project(samples, 20_000, 40_000, samples[^1].Time, new ProjectionOptions { RestartSteadyWindow = TimeSpan.Zero });

        Assert.Empty(p.Restarts);
        Assert.True(p.Verdict == LeakVerdict.Leak, p.Reason);
        Assert.InRange(p.SlopePerHour, 19, 21);
        Assert.NotEmpty(withoutSteadyLevel.Restarts);
    }

    [Fact]
    public void ShortBurstNearTheEnd_DoesNotMakeALeakLookStopped()
    {
        // Four 8-minute bursts of +3000 fds, the last 1.5 h before now, bend a least-squares two-segment line into
        // a "stop"; the stop test sees the buckets clipped to their running median, and the leak persists.
        var noise = new Random(21);
        double[] burstsAt = [3, 5.5, 8, 10.5];
        var samples = Series(12, TimeSpan.FromSeconds(10), h =>
            10_000 + (20 * h) + (5 * Gauss(noise)) + (burstsAt.Any(b => h >= b && h < b + (8.0 / 60)) ? 3000 : 0));

        var p = LeakProjector.Project(samples, 20_000, 40_000, samples[^1].Time);
        var unclipped = LeakProjector.Project(samples, 20_000, 40_000, samples[^1].Time, new ProjectionOptions { BurstClipHalfWidth = 0 });

        Assert.True(p.Verdict == LeakVerdict.Leak, p.Reason);
        Assert.InRange(p.SlopePerHour, 19, 21);
        Assert.Equal(LeakVerdict.NoLeak, unclipped.Verdict);
    }

    [Fact]
    public void DropBelowTheSteadyLevelWithoutStartTimes_IsStillARestartWhenBurstsAreAround()
    {
        // The same bursty leak, restarted at 9 h (back to 10,000 fds, below the 10,180 it held before the drop).
        var noise = new Random(22);
        double[] burstsAt = [3, 5.5, 8, 10.5];
        var samples = Series(12, TimeSpan.FromSeconds(10), h =>
            10_000 + (20 * (h < 9 ? h : h - 9)) + (5 * Gauss(noise)) + (burstsAt.Any(b => h >= b && h < b + (8.0 / 60)) ? 3000 : 0));

        var p = LeakProjector.Project(samples, 20_000, 40_000, samples[^1].Time);

        Assert.Equal([Start.AddHours(9)], p.Restarts);
    }

    internal static (double Slope, double Intercept) LeastSquares(IReadOnlyList<FdSample> samples)
    {
        var t0 = samples[0].Time;
        var x = samples.Select(s => (s.Time - t0).TotalHours).ToArray();
        var y = samples.Select(s => (double)s.OpenFds).ToArray();
        double mx = x.Average(), my = y.Average();
        var slope = x.Zip(y, (a, b) => (a - mx) * (b - my)).Sum() / x.Sum(a => (a - mx) * (a - mx));
        return (slope, my - (slope * mx));
    }

    /// <summary>Readings every <paramref name="step"/> over <paramref name="hours"/> from <see cref="Start"/> (both ends included).</summary>
    internal static FdSample[] Series(double hours, TimeSpan step, Func<double, double> fdsAtHour)
    {
        var count = (int)Math.Round(hours / step.TotalHours) + 1;
        return Enumerable.Range(0, count)
            .Select(i =>
            {
                var at = Start + (step * i);
                return new FdSample(at, (long)Math.Max(0, Math.Round(fdsAtHour((at - Start).TotalHours))));
            })
            .ToArray();
    }

    internal static double Gauss(Random r) =>
        Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
