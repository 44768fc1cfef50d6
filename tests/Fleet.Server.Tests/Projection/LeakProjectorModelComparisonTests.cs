using Fleet.Server.Projection;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Projection;

/// <summary>
/// The comparison of models with AR(1)-plus-white errors that may overrule the step and stop tests, and the
/// regression with those errors that gives a leak's slope under correlated noise.
/// </summary>
public sealed class LeakProjectorModelComparisonTests
{
    private static readonly ProjectionOptions NoComparison = new() { ModelComparisonMargin = double.PositiveInfinity };
    private static readonly ProjectionOptions RobustSlope = new() { CorrelatedNoiseRegression = false };

    [Fact]
    public void ContinuingLeaksUnderWanderingNoise_AreRefusedLessOftenWithTheModelComparison()
    {
        // 40 fds/h for 16 h under white noise, a slow AR(1) and a random walk: the leak never stops, so every
        // "no leak" is a miss. Without the comparison the step and stop tests take some wanders for a step or a stop.
        int refusedWithout = 0, refusedWith = 0;
        for (var seed = 141; seed <= 200; seed++)
        {
            var samples = NoisySeries.Make(seed, h => 1000 + (40 * h), white: 100, arSd: 150, arMinutes: 150, walkSd: 6);
            if (LeakProjector.Project(samples, 5000, 10000, samples[^1].Time, NoComparison).Verdict == LeakVerdict.NoLeak)
            {
                refusedWithout++;
            }

            if (LeakProjector.Project(samples, 5000, 10000, samples[^1].Time).Verdict == LeakVerdict.NoLeak)
            {
                refusedWith++;
            }
        }

        Assert.True(refusedWithout > 0, "without the comparison some continuing leaks should be refused (else the series test nothing)");
        Assert.True(refusedWith < refusedWithout, $"with the comparison: {refusedWith} refused; without: {refusedWithout}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void StepUnderCorrelatedNoise_IsStillNoLeak(int seed)
    {
        // Flat at 1000 fds, a one-off step of 600 at 7 h, under white noise and an AR(1) over 30 min: the step
        // model explains it, so the comparison must not overrule the step test.
        var samples = NoisySeries.Make(seed, h => 1000 + (h >= 7 ? 600 : 0), white: 30, arSd: 20, arMinutes: 30, walkSd: 0);

        var p = LeakProjector.Project(samples, 5000, 10000, samples[^1].Time);

        Assert.True(p.Verdict == LeakVerdict.NoLeak, p.Reason);
        Assert.Null(p.TimeToSoftLimit);
    }

    [Fact]
    public void LeakUnderWanderingNoise_TakesAMoreAccurateSlopeFromTheCorrelatedNoiseRegression()
    {
        // 40 fds/h under heavy white noise (sd 150), an AR(1) over an hour (sd 80) and a slight random walk: least squares and the median of pairwise slopes
        // weigh every reading alike, the regression with AR(1)-plus-white errors weighs them as the noise asks.
        var withRegression = new List<double>();
        var robust = new List<double>();
        for (var seed = 300; seed < 360; seed++)
        {
            var samples = NoisySeries.Make(seed, h => 1000 + (40 * h), white: 150, arSd: 80, arMinutes: 60, walkSd: 1);
            var p = LeakProjector.Project(samples, 5000, 10000, samples[^1].Time);
            var r = LeakProjector.Project(samples, 5000, 10000, samples[^1].Time, RobustSlope);
            if (p.Verdict == LeakVerdict.Leak && r.Verdict == LeakVerdict.Leak)
            {
                withRegression.Add(Math.Abs(p.SlopePerHour - 40));
                robust.Add(Math.Abs(r.SlopePerHour - 40));
            }
        }

        Assert.True(withRegression.Count >= 30, $"only {withRegression.Count} of 60 series were leaks for both");
        Assert.True(Median(withRegression) < Median(robust), $"median slope error: {Median(withRegression):0.00} with the regression, {Median(robust):0.00} without");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
