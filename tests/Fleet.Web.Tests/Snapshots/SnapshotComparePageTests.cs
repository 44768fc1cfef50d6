using Fleet.Web.Components.Snapshots;

namespace Fleet.Web.Tests.Snapshots;

public sealed class SnapshotComparePageTests
{
    [Fact]
    public async Task Compare_OfASnapshotsHosts_RendersTheComparisonOfTheFrozenViews_UnderTheBanner()
    {
        await using var t = SnapshotContext.Create();
        var s = t.Snapshots.Add(SnapshotSamples.Snapshot(21, "two hosts", [SnapshotSamples.Host("web-1", 700), SnapshotSamples.Host("web-2", 300)]));

        var cut = t.Ctx.Render<SnapshotComparePage>(p => p.Add(x => x.Id, s.Info.Id));

        Assert.Equal(s.Hosts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), cut.Find("[data-test=compare-body]").GetAttribute("data-subjects"));
        Assert.NotNull(cut.Find("[data-testid=snapshot-banner]"));
        Assert.Empty(cut.FindAll("[data-testid=load-error]"));
        Assert.Equal(0, t.Feed.ActiveSubscriptions);
    }

    [Fact]
    public async Task Compare_OfAOneHostSnapshot_SaysItNeedsTwo()
    {
        await using var t = SnapshotContext.Create();
        var s = t.Snapshots.Add(SnapshotSamples.Snapshot(22, "one host", [SnapshotSamples.Host("web-1", 700)]));

        var cut = t.Ctx.Render<SnapshotComparePage>(p => p.Add(x => x.Id, s.Info.Id));

        Assert.NotNull(cut.Find("[data-testid=compare-too-few]"));
        Assert.Empty(cut.FindAll("[data-test=compare-body]"));
    }

    [Fact]
    public async Task Compare_OfAnUnknownSnapshot_SaysThereIsNone()
    {
        await using var t = SnapshotContext.Create();

        var cut = t.Ctx.Render<SnapshotComparePage>(p => p.Add(x => x.Id, 31337));

        Assert.Contains("no snapshot 31337", cut.Find("[data-testid=not-found]").TextContent, StringComparison.Ordinal);
    }
}
