using Fleet.Server.Api;

namespace Fleet.Server.Tests.Api;

public sealed class SeriesRequestTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Parse_OnlyMetric_DefaultsToLastHourWithAbout300Points()
    {
        var (query, problems) = SeriesRequest.Parse("web-1", "open_fds", null, null, null, null, Now);

        Assert.Empty(problems);
        Assert.Equal(Now.AddHours(-1), query!.From);
        Assert.Equal(Now, query.To);
        Assert.Equal(TimeSpan.FromSeconds(15), query.Step);
        Assert.InRange((query.To - query.From) / query.Step, 200, 300);
    }

    [Fact]
    public void Parse_RelativeFromAndIsoTo_AreUnderstood()
    {
        var (query, problems) = SeriesRequest.Parse("web-1", "close_wait", "app", "-7d", "2026-03-01T06:00:00Z", "1h", Now);

        Assert.Empty(problems);
        Assert.Equal(Now.AddDays(-7), query!.From);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 6, 0, 0, TimeSpan.Zero), query.To);
        Assert.Equal(TimeSpan.FromHours(1), query.Step);
        Assert.Equal("app", query.Service);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("-1x")]
    [InlineData("12")]
    public void Parse_BadFrom_NamesFrom(string from)
    {
        var (query, problems) = SeriesRequest.Parse("web-1", "open_fds", null, from, null, null, Now);

        Assert.Null(query);
        Assert.Contains("from", problems.Keys);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("fast")]
    [InlineData("0s")]
    [InlineData("-5m")]
    public void Parse_BadStep_NamesStep(string step)
    {
        var (_, problems) = SeriesRequest.Parse("web-1", "open_fds", null, null, null, step, Now);

        Assert.Contains("step", problems.Keys);
    }

    [Fact]
    public void Parse_StepGivingTooManyPoints_NamesStepAndSuggestsOne()
    {
        var (_, problems) = SeriesRequest.Parse("web-1", "open_fds", null, "-30d", null, "1s", Now);

        Assert.Contains("at least", problems["step"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FromAfterTo_NamesFrom()
    {
        var (_, problems) = SeriesRequest.Parse("web-1", "open_fds", null, "-1h", "-2h", null, Now);

        Assert.Contains("before", problems["from"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownMetric_ListsAllowedOnes()
    {
        var (_, problems) = SeriesRequest.Parse("web-1", "cpu", null, null, null, null, Now);

        Assert.Contains("open_fds", problems["metric"][0], StringComparison.Ordinal);
        Assert.Contains("conntrack", problems["metric"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HostMetricWithService_NamesService()
    {
        var (_, problems) = SeriesRequest.Parse("web-1", "conntrack", "app", null, null, null, Now);

        Assert.Contains("service", problems.Keys);
    }

    [Fact]
    public void Parse_SeveralBadParameters_ReportsEach()
    {
        var (_, problems) = SeriesRequest.Parse("web-1", null, null, "soon", "later", "often", Now);

        Assert.Equal(["from", "metric", "step", "to"], problems.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(1, 15)]
    [InlineData(24, 300)]
    [InlineData(24 * 7, 3600)]
    public void DefaultStep_IsARoundStepForAbout300Points(int hours, int expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), SeriesRequest.DefaultStep(TimeSpan.FromHours(hours)));
    }
}
