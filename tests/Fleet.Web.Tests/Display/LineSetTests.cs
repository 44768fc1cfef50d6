using Fleet.Web.Charts;
using Fleet.Web.Data;

namespace Fleet.Web.Tests.Display;

public sealed class LineSetTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void From_LeavesGapsOut()
    {
        var set = LineSet.From(new SeriesSet("close_wait", TimeSpan.FromMinutes(1), "1m",
        [
            new MetricSeries("api", [new(T0, 1), new(T0.AddMinutes(1), null), new(T0.AddMinutes(2), 4)]),
            new MetricSeries("db", [new(T0, 2)]),
        ]));

        Assert.Equal(3, set.PointCount);
        Assert.Equal(4 + 2, set.LastSum);
    }

    [Fact]
    public void Append_AddsToTheNamedLineOrMakesIt()
    {
        var set = new LineSet();

        set.Append("api", T0, 3);
        set.Append("api", T0.AddSeconds(10), 5);
        set.Append("db", T0.AddSeconds(10), 1);

        Assert.Equal(3, set.PointCount);
        Assert.Equal(5 + 1, set.LastSum);
    }

    [Fact]
    public void Append_OfAnOlderSample_IsIgnoredAndOfTheSameTimeReplaces()
    {
        var set = new LineSet();
        set.Append("api", T0.AddSeconds(10), 5);

        set.Append("api", T0, 99);
        set.Append("api", T0.AddSeconds(10), 7);

        Assert.Equal(1, set.PointCount);
        Assert.Equal(7, set.LastSum);
    }

    [Fact]
    public void TrimBefore_DropsOldPointsAndEmptyLines()
    {
        var set = new LineSet();
        set.Append("api", T0, 1);
        set.Append("api", T0.AddMinutes(10), 2);
        set.Append("old", T0, 9);

        set.TrimBefore(T0.AddMinutes(5));

        Assert.Equal(1, set.PointCount);
        Assert.Equal(["api"], set.Lines.Select(l => l.Name));
    }

    [Fact]
    public void OneLine_MergesEverySeriesIntoOneNamedLine()
    {
        var set = LineSet.OneLine(new SeriesSet("file_handles", TimeSpan.Zero, "raw",
        [
            new MetricSeries("web-1", [new(T0.AddMinutes(1), 20), new(T0, 10), new(T0.AddMinutes(2), null)]),
        ]), "allocated");

        var line = Assert.Single(set.Lines);
        Assert.Equal("allocated", line.Name);
        Assert.Equal([10.0, 20.0], line.Points.Select(p => p.Value));
    }
}
