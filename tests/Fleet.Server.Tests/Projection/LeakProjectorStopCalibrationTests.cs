using Fleet.Server.Projection;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Projection;

/// <summary>The stop test's bar, calibrated on replicates of a continuing leak under the run's own noise.</summary>
public sealed class LeakProjectorStopCalibrationTests
{
    private static readonly ProjectionOptions FixedBar = new() { StopTestBootstrapReplicates = 0 };

    [Fact]
    public void ContinuingLeaksUnderWanderingNoise_AreTakenForStopsLessOftenThanWithTheFixedBar()
    {
        // 40 fds/h for 16 h under white noise, a slow AR(1) and a random walk: the leak never stops, so every
        // "does not persist" is a miss. The fixed 1.75 standard errors takes some of these wanders for stops.
        int fixedStops = 0, calibratedStops = 0;
        for (var seed = 141; seed <= 200; seed++)
        {
            var samples = NoisySeries.Make(seed, h => 1000 + (40 * h), white: 100, arSd: 150, arMinutes: 150, walkSd: 6);
            if (IsStop(LeakProjector.Project(samples, 5000, 10000, samples[^1].Time, FixedBar)))
            {
                fixedStops++;
            }

            if (IsStop(LeakProjector.Project(samples, 5000, 10000, samples[^1].Time)))
            {
                calibratedStops++;
            }
        }

        Assert.True(fixedStops > 0, "the fixed bar should take some wanders for stops (else the series test nothing)");
        Assert.True(calibratedStops < fixedStops, $"calibrated bar: {calibratedStops} stops; fixed bar: {fixedStops}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void LeakThatStoppedUnderTheSameNoise_IsStillNoLeak(int seed)
    {
        // A rise of 80 fds/h that stopped 6 h ago under correlated noise (white sd 30, an AR(1) of sd 20 over
        // 30 min): the bar calibrated to that noise must not hide the stop.
        var samples = NoisySeries.Make(seed, h => 1000 + (80 * Math.Min(h, 10)), white: 30, arSd: 20, arMinutes: 30, walkSd: 0);

        var p = LeakProjector.Project(samples, 5000, 10000, samples[^1].Time);

        Assert.Equal(LeakVerdict.NoLeak, p.Verdict);
        Assert.Null(p.TimeToSoftLimit);
    }

    private static bool IsStop(Fleet.Server.Projection.Projection p) =>
        p.Verdict == LeakVerdict.NoLeak && p.Reason.Contains("does not persist", StringComparison.Ordinal);
}
