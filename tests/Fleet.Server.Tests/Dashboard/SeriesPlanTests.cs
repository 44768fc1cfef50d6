using Fleet.Server.Dashboard;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Dashboard;

public sealed class SeriesPlanTests
{
    private static readonly DateTimeOffset Noon = new(2030, 3, 15, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(15, "raw", 10, 90)]
    [InlineData(60, "raw", 15, 240)]
    [InlineData(6 * 60, "raw", 120, 180)]
    [InlineData(24 * 60, "1m", 300, 288)]
    [InlineData(7 * 24 * 60, "1h", 3600, 168)]
    [InlineData(30 * 24 * 60, "1h", 3 * 3600, 240)]
    public void For_AWindowOfTheRangeButtons_PicksSourceRoundStepAndPointCount(int minutes, string source, int stepSeconds, int points)
    {
        var plan = SeriesPlan.For(new TimeWindow(Noon.AddMinutes(-minutes), Noon, true, "x"));

        Assert.Equal((source, TimeSpan.FromSeconds(stepSeconds), points), (plan.Source, plan.Step, plan.Points));
        Assert.Equal(Noon.AddMinutes(-minutes), plan.Time(0));
    }

    [Fact]
    public void For_AWindowStartingBetweenSteps_StartsAtTheStepHoldingItAndCountsRowsFromTheStart()
    {
        var plan = SeriesPlan.For(new TimeWindow(Noon.AddHours(-1).AddSeconds(7), Noon.AddSeconds(7), true, "1h"));

        Assert.Equal(Noon.AddHours(-1), plan.Time(0));
        Assert.Equal(241, plan.Points);
        Assert.Equal(Noon.AddHours(-1).AddSeconds(7).UtcDateTime, plan.Lower);
        Assert.Equal(0, plan.Index(Noon.AddHours(-1).UtcDateTime));
        Assert.Equal(240, plan.Index(Noon.UtcDateTime));
        Assert.Equal(-1, plan.Index(Noon.AddSeconds(15).UtcDateTime));
        Assert.Equal(-1, plan.Index(Noon.AddHours(-2).UtcDateTime));
    }

    [Fact]
    public void For_ARollupWindow_CountsRowsFromTheRollupBucketHoldingTheStart()
    {
        var plan = SeriesPlan.For(new TimeWindow(Noon.AddDays(-1).AddSeconds(30), Noon, false, "custom"));

        Assert.Equal("1m", plan.Source);
        Assert.Equal(Noon.AddDays(-1).UtcDateTime, plan.Lower);
    }

    [Theory]
    [InlineData("10.0.0.1", 80, "10.0.0.1:80")]
    [InlineData("::ffff:10.0.0.1", 80, "10.0.0.1:80")]
    [InlineData("2001:0db8:0:0::0001", 443, "[2001:db8::1]:443")]
    public void Remote_OfAnAddress_IsItsCanonicalTextWithIPv6InBrackets(string address, uint port, string expected)
    {
        Assert.Equal(expected, HostDetails.Remote(address, port));
    }
}
