using Fleet.Web.Display;

namespace Fleet.Web.Tests.Display;

public sealed class FiguresTests
{
    [Theory]
    [InlineData(0, "0")]
    [InlineData(999, "999")]
    [InlineData(1234, "1.2k")]
    [InlineData(12_345, "12.3k")]
    [InlineData(123_456, "123k")]
    [InlineData(999_999, "1M")]
    [InlineData(1_500_000, "1.5M")]
    [InlineData(2_000_000_000, "2G")]
    public void Count_ReadsAsShortFigure(double value, string expected) => Assert.Equal(expected, Figures.Count(value));

    [Fact]
    public void Count_OfUnlimited_IsInfinity() => Assert.Equal("∞", Figures.Count(ulong.MaxValue));

    [Theory]
    [InlineData(87.4, "87%")]
    [InlineData(99.6, "100%")]
    [InlineData(7.46, "7.5%")]
    [InlineData(0, "0%")]
    [InlineData(150, "150%")]
    public void Percent_ReadsWholeAboveTenAndOneDecimalBelow(double value, string expected) => Assert.Equal(expected, Figures.Percent(value));

    [Theory]
    [InlineData(0UL, "0 B")]
    [InlineData(512UL, "512 B")]
    [InlineData(1536UL, "1.5 KiB")]
    [InlineData(9_000_000UL, "8.6 MiB")]
    [InlineData(3UL * 1024 * 1024 * 1024, "3 GiB")]
    public void Bytes_ReadInBinaryUnits(ulong value, string expected) => Assert.Equal(expected, Figures.Bytes(value));

    [Theory]
    [InlineData(0.35, "350 µs")]
    [InlineData(1.24, "1.2 ms")]
    [InlineData(850, "850 ms")]
    [InlineData(12_000, "12 s")]
    [InlineData(95_000, "1 min 35 s")]
    [InlineData(120_000, "2 min")]
    [InlineData(7_500_000, "2 h 5 min")]
    [InlineData(273_600_000, "3 d 4 h")]
    public void Duration_ReadsInTheLargestSensibleUnits(double milliseconds, string expected) =>
        Assert.Equal(expected, Figures.Duration(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void Relative_SaysHowLongAgo()
    {
        var now = new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);
        Assert.Equal("12 s ago", Figures.Relative(now.AddSeconds(-12.4), now));
        Assert.Equal("5 min ago", Figures.Relative(now.AddMinutes(-5), now));
        Assert.Equal("just now", Figures.Relative(now.AddMilliseconds(-300), now));
        Assert.Equal("in 3 s", Figures.Relative(now.AddSeconds(3), now));
        Assert.Equal("never", Figures.Relative(null, now));
    }

    [Fact]
    public void Exact_IsInvariant()
    {
        Assert.Equal("1234567", Figures.Exact(1_234_567UL));
        Assert.Equal("87.5", Figures.Exact(87.5));
        Assert.Equal("-3", Figures.Exact(-3L));
    }

    [Fact]
    public void Change_ShowsTheSign()
    {
        Assert.Equal("+12", Figures.Change(12));
        Assert.Equal("-1.5k", Figures.Change(-1500));
        Assert.Equal("0", Figures.Change(0));
    }

    [Theory]
    [InlineData(100, FigureSeverity.Error)]
    [InlineData(95, FigureSeverity.Error)]
    [InlineData(94.9, FigureSeverity.Warning)]
    [InlineData(80, FigureSeverity.Warning)]
    [InlineData(79.9, FigureSeverity.Normal)]
    [InlineData(0, FigureSeverity.Normal)]
    public void Severity_OfPercent_WarnsAt80AndErrsAt95(double percent, FigureSeverity expected) =>
        Assert.Equal(expected, Severities.OfPercent(percent));

    [Fact]
    public void Severity_OfUse_WithUnknownMax_IsNormal()
    {
        Assert.Equal(FigureSeverity.Normal, Severities.OfUse(10, 0));
        Assert.Equal(FigureSeverity.Error, Severities.OfUse(960, 1000));
    }
}
