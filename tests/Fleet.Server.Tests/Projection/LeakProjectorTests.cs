using Fleet.Server.Projection;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Projection;

public sealed class LeakProjectorTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void LinearLeak_GivesTheSlopeAndTheTimesToBothLimits()
    {
        // 200 fds rising 50 per hour for 12 h with noise: 800 at the end; 2000 is 24 h away, 4000 is 64 h away.
        var noise = new Random(1);
        var samples = Series(12, TimeSpan.FromMinutes(1), h => 200 + (50 * h) + (5 * Gauss(noise)));

        var p = LeakProjector.Project(samples, softLimit: 2000, hardLimit: 4000, samples[^1].Time);

        Assert.Equal(LeakVerdict.Leak, p.Verdict);
        Assert.InRange(p.SlopePerHour, 49, 51);
        Assert.InRange(p.TimeToSoftLimit!.Value.TotalHours, 24 * 0.97, 24 * 1.03);
        Assert.InRange(p.TimeToHardLimit!.Value.TotalHours, 64 * 0.97, 64 * 1.03);
        Assert.InRange(p.Quality, 0.5, 1);
        Assert.Empty(p.Restarts);
        Assert.Equal(samples[0].Time, p.RunStart);
    }

    [Fact]
    public void ProcessStartChange_CutsTheFitToTheCurrentRun()
    {
        // A first run leaks 100/h for 6 h; after the restart the new process leaks 30/h for 5 h.
        var restart = Start.AddHours(6);
        var samples = Series(11, TimeSpan.FromMinutes(1), h => h < 6 ? 100 + (100 * h) : 100 + (30 * (h - 6)))
            .Select(s => s with { ProcessStart = s.Time < restart ? Start : restart })
            .ToArray();

        var p = LeakProjector.Project(samples, 5000, 10000, samples[^1].Time);

        Assert.Equal([restart], p.Restarts);
        Assert.Equal(restart, p.RunStart);
        Assert.Equal(LeakVerdict.Leak, p.Verdict);
        Assert.InRange(p.SlopePerHour, 29, 31);
    }

    [Fact]
    public void SharpDropAfterRising_IsARestartEvenWithoutStartTimes()
    {
        var samples = Series(11, TimeSpan.FromMinutes(1), h => h < 6 ? 100 + (100 * h) : 100 + (30 * (h - 6)));

        var p = LeakProjector.Project(samples, 5000, 10000, samples[^1].Time);

        Assert.Equal([Start.AddHours(6)], p.Restarts);
        Assert.InRange(p.SlopePerHour, 29, 31);
    }

    [Fact]
    public void SawTooth_ReportsTheRestartCadence()
    {
        // Restarted every 3 h (drops back to 100 after rising 60/h), over 20 h: restarts at 3, 6, ..., 18 h.
        var samples = Series(20, TimeSpan.FromMinutes(1), h => 100 + (60 * (h % 3)));

        var p = LeakProjector.Project(samples, 5000, 10000, samples[^1].Time);

        Assert.Equal(6, p.Restarts.Count);
        Assert.NotNull(p.RestartCadence);
        Assert.InRange(p.RestartCadence.Value.TotalMinutes, 179, 181);
        Assert.Equal(Start.AddHours(18), p.RunStart);
        Assert.Equal(LeakVerdict.Leak, p.Verdict);
        Assert.InRange(p.SlopePerHour, 59, 61);
    }

    [Fact]
    public void ShallowSawTooth_IsCutAtItsDropsThoughTheyDoNotHalveTheFds()
    {
        // 400 fds rising 20/h, restarted every 4 h: each drop (480 -> 400) is far above the noise but not a halving.
        var noise = new Random(6);
        var samples = Series(19, TimeSpan.FromMinutes(1), h => 400 + (20 * (h % 4)) + (2 * Gauss(noise)));

        var p = LeakProjector.Project(samples, 2000, 4000, samples[^1].Time);

        Assert.Equal([Start.AddHours(4), Start.AddHours(8), Start.AddHours(12), Start.AddHours(16)], p.Restarts);
        Assert.InRange(p.RestartCadence!.Value.TotalMinutes, 239, 241);
        Assert.Equal(LeakVerdict.Leak, p.Verdict);
        Assert.InRange(p.SlopePerHour, 18, 22);
    }

    [Fact]
    public void DropBackToTheRunStartLevelAfterALoadBurst_IsNotARestartWhenGradual()
    {
        // A load wave rises from 300 to 700 and falls back over 3 h each: no reading-to-reading drop stands out.
        var noise = new Random(7);
        var samples = Series(12, TimeSpan.FromMinutes(1), h => 500 - (200 * Math.Cos(2 * Math.PI * h / 6)) + (3 * Gauss(noise)));

        var p = LeakProjector.Project(samples, 2000, 4000, samples[^1].Time);

        Assert.Empty(p.Restarts);
        Assert.Equal(LeakVerdict.NoLeak, p.Verdict);
    }

    [Fact]
    public void Spikes_DoNotMoveTheEstimateNorCountAsRestarts()
    {
        // The same leak as above, with bursts of 3 readings at ten times the level, and a dip to a tenth, every 40 min.
        var samples = Series(12, TimeSpan.FromMinutes(1), h =>
        {
            var minute = (int)Math.Round(h * 60);
            var level = 200 + (50 * h);
            return minute % 40 is 5 or 6 or 7 ? level * 10 : minute % 40 == 20 ? level / 10 : level;
        });

        var p = LeakProjector.Project(samples, 2000, 4000, samples[^1].Time);

        Assert.Empty(p.Restarts);
        Assert.Equal(LeakVerdict.Leak, p.Verdict);
        Assert.InRange(p.SlopePerHour, 49, 51);
        Assert.InRange(p.TimeToSoftLimit!.Value.TotalHours, 24 * 0.97, 24 * 1.03);
    }

    [Fact]
    public void FlatSeries_IsNoLeak()
    {
        var noise = new Random(2);
        var samples = Series(12, TimeSpan.FromMinutes(1), _ => 500 + (10 * Gauss(noise)));

        var p = LeakProjector.Project(samples, 1024, 4096, samples[^1].Time);

        Assert.Equal(LeakVerdict.NoLeak, p.Verdict);
        Assert.Null(p.TimeToSoftLimit);
        Assert.Null(p.TimeToHardLimit);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(Math.PI / 2)]
    [InlineData(Math.PI)]
    [InlineData(3 * Math.PI / 2)]
    public void DailyLoadCycleWithoutTrend_IsNoLeak(double phase)
    {
        var noise = new Random(3);
        var samples = Series(30, TimeSpan.FromMinutes(1), h => 1000 + (400 * Math.Sin(phase + (2 * Math.PI * h / 24))) + (10 * Gauss(noise)));

        var p = LeakProjector.Project(samples, 4096, 8192, samples[^1].Time);

        Assert.Equal(LeakVerdict.NoLeak, p.Verdict);
        Assert.Null(p.TimeToSoftLimit);
    }

    [Theory]
    [InlineData(3.0)]
    [InlineData(6.0)]
    [InlineData(10.0)]
    public void OneOffStep_IsNoLeak(double stepAtHour)
    {
        var noise = new Random(4);
        var samples = Series(12, TimeSpan.FromMinutes(1), h => (h < stepAtHour ? 300 : 600) + (5 * Gauss(noise)));

        var p = LeakProjector.Project(samples, 1024, 4096, samples[^1].Time);

        Assert.Equal(LeakVerdict.NoLeak, p.Verdict);
        Assert.Null(p.TimeToSoftLimit);
    }

    [Fact]
    public void LeakThatStoppedHoursAgo_IsNoLeak()
    {
        // Rose 80/h for 12 h, flat for the last 6 h.
        var noise = new Random(5);
        var samples = Series(18, TimeSpan.FromMinutes(1), h => 200 + (80 * Math.Min(h, 12)) + (8 * Gauss(noise)));

        var p = LeakProjector.Project(samples, 4096, 8192, samples[^1].Time);

        Assert.Equal(LeakVerdict.NoLeak, p.Verdict);
        Assert.Null(p.TimeToSoftLimit);
        Assert.Contains("persist", p.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TooFewSamples_IsInsufficientData()
    {
        var samples = Series(2, TimeSpan.FromMinutes(15), h => 100 + (100 * h));

        var p = LeakProjector.Project(samples, 1024, 4096, samples[^1].Time);

        Assert.Equal(9, samples.Length);
        Assert.Equal(LeakVerdict.InsufficientData, p.Verdict);
        Assert.Null(p.TimeToSoftLimit);
        Assert.Equal(0, p.Quality);
    }

    [Fact]
    public void ManySamplesOverTooShortARun_IsInsufficientData()
    {
        var samples = Series(0.5, TimeSpan.FromSeconds(10), h => 100 + (400 * h));

        var p = LeakProjector.Project(samples, 1024, 4096, samples[^1].Time);

        Assert.Equal(LeakVerdict.InsufficientData, p.Verdict);
    }

    [Fact]
    public void NoSamples_IsInsufficientData()
    {
        var p = LeakProjector.Project([], 1024, 4096, Start);

        Assert.Equal(LeakVerdict.InsufficientData, p.Verdict);
        Assert.Null(p.RunStart);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(-1L)]
    public void UnlimitedSoftLimit_GivesNoTimeButTheHardLimitStillDoes(long? soft)
    {
        var samples = Series(12, TimeSpan.FromMinutes(1), h => 200 + (50 * h));

        var p = LeakProjector.Project(samples, soft, hardLimit: 4000, samples[^1].Time);

        Assert.Equal(LeakVerdict.Leak, p.Verdict);
        Assert.Null(p.TimeToSoftLimit);
        Assert.InRange(p.TimeToHardLimit!.Value.TotalHours, 63, 65);
    }

    [Fact]
    public void LevelAlreadyAboveTheSoftLimit_GivesZeroTime()
    {
        var samples = Series(12, TimeSpan.FromMinutes(1), h => 200 + (50 * h));

        var p = LeakProjector.Project(samples, softLimit: 500, hardLimit: 4000, samples[^1].Time);

        Assert.Equal(TimeSpan.Zero, p.TimeToSoftLimit);
    }

    [Fact]
    public void SamplesAfterNow_AreIgnored()
    {
        // Flat until now, then a steep rise that has not happened yet as far as "now" is concerned.
        var samples = Series(12, TimeSpan.FromMinutes(1), h => h <= 8 ? 300 : 300 + (500 * (h - 8)));

        var p = LeakProjector.Project(samples, 4096, 8192, Start.AddHours(8));

        Assert.Equal(LeakVerdict.NoLeak, p.Verdict);
    }

    /// <summary>Readings every <paramref name="step"/> over <paramref name="hours"/> from <see cref="Start"/> (both ends included).</summary>
    private static FdSample[] Series(double hours, TimeSpan step, Func<double, double> fdsAtHour)
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

    private static double Gauss(Random r) =>
        Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
