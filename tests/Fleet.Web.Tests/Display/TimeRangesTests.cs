using Fleet.Web.Display;

namespace Fleet.Web.Tests.Display;

public sealed class TimeRangesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("15m", 15)]
    [InlineData("1h", 60)]
    [InlineData("6h", 360)]
    [InlineData("24h", 1440)]
    [InlineData("7d", 10_080)]
    [InlineData("30d", 43_200)]
    public void Parse_RelativeRange_EndsNowAndIsLive(string key, int minutes)
    {
        var window = TimeRanges.Parse(key, null, null, Now);

        Assert.Equal(Now, window.To);
        Assert.Equal(Now.AddMinutes(-minutes), window.From);
        Assert.True(window.Live);
        Assert.Equal(key, window.RangeKey);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2w")]
    public void Parse_MissingOrUnknownRange_IsTheLastHour(string? key)
    {
        var window = TimeRanges.Parse(key, null, null, Now);

        Assert.Equal("1h", window.RangeKey);
        Assert.Equal(TimeSpan.FromHours(1), window.Length);
    }

    [Fact]
    public void Parse_Custom_IsAFixedWindow()
    {
        var window = TimeRanges.Parse("custom", "2026-11-27T06:00:00Z", "2026-11-27T07:30:00Z", Now);

        Assert.False(window.Live);
        Assert.Equal("custom", window.RangeKey);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 6, 0, 0, TimeSpan.Zero), window.From);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 7, 30, 0, TimeSpan.Zero), window.To);
    }

    [Theory]
    [InlineData("2026-11-27T07:30:00Z", "2026-11-27T06:00:00Z")]
    [InlineData("yesterday", "2026-11-27T06:00:00Z")]
    [InlineData(null, null)]
    public void Parse_CustomWithoutAValidFromBeforeTo_IsTheDefault(string? from, string? to)
    {
        var window = TimeRanges.Parse("custom", from, to, Now);

        Assert.True(window.Live);
        Assert.Equal(TimeRanges.DefaultKey, window.RangeKey);
    }

    [Fact]
    public void ToQuery_OfCustomWindow_ParsesBackToTheSameWindow()
    {
        var window = TimeRanges.Parse("custom", "2026-11-27T06:00:00Z", "2026-11-27T07:30:00Z", Now);

        var query = TimeRanges.ToQuery(window);
        var back = TimeRanges.Parse((string?)query["range"], (string?)query["from"], (string?)query["to"], Now.AddDays(1));

        Assert.Equal(window, back);
    }

    [Fact]
    public void ToQuery_OfRelativeWindow_HasNoFromOrTo()
    {
        var query = TimeRanges.ToQuery(TimeRanges.Parse("6h", null, null, Now));

        Assert.Equal("6h", query["range"]);
        Assert.Null(query["from"]);
        Assert.Null(query["to"]);
    }

    [Fact]
    public void Follow_MovesALiveWindowButNotACustomOne()
    {
        var later = Now.AddMinutes(5);
        var live = TimeRanges.Parse("15m", null, null, Now);
        var custom = TimeRanges.Parse("custom", "2026-11-27T06:00:00Z", "2026-11-27T07:30:00Z", Now);

        Assert.Equal(later, TimeRanges.Follow(live, later).To);
        Assert.Equal(live.Length, TimeRanges.Follow(live, later).Length);
        Assert.Equal(custom, TimeRanges.Follow(custom, later));
    }
}
