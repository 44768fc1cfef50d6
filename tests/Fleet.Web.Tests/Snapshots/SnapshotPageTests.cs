using Fleet.Web.Components.Snapshots;

namespace Fleet.Web.Tests.Snapshots;

public sealed class SnapshotPageTests
{
    [Fact]
    public async Task Summary_ShowsTitleNotesAlerts_AndLinksToEachFrozenView()
    {
        await using var t = SnapshotContext.Create();
        var s = t.Snapshots.Add(SnapshotSamples.Snapshot(12, "api leak", [SnapshotSamples.Host("web-1", 700), SnapshotSamples.Host("web-2", 300)],
            SnapshotSamples.Service("api", "web-1", "web-2"), SnapshotSamples.Alert(5, "web-1", "fds high")));

        var cut = t.Ctx.Render<SnapshotPage>(p => p.Add(x => x.Id, s.Info.Id));

        Assert.Equal("api leak", cut.Find("[data-testid=snapshot-title]").TextContent.Trim());
        Assert.Equal(s.Info.Notes, cut.Find("[data-testid=snapshot-notes]").TextContent);
        Assert.Equal(["fds high"], cut.FindAll("[data-testid=snapshot-alert]").Select(a => a.GetAttribute("data-rule")));
        Assert.Equal([SnapshotTexts.HostHref(s.Info.Id, "web-1"), SnapshotTexts.HostHref(s.Info.Id, "web-2")],
            cut.FindAll("[data-testid=snapshot-host-link]").Select(a => a.GetAttribute("href")));
        Assert.Equal(SnapshotTexts.ServiceHref(s.Info.Id, "api"), cut.Find("[data-testid=snapshot-service-link]").GetAttribute("href"));
        Assert.Equal(SnapshotTexts.CompareHref(s.Info.Id), cut.Find("[data-testid=snapshot-compare-link]").GetAttribute("href"));
        Assert.Equal(SnapshotTexts.ArchiveHref(s.Info.Id), cut.Find("[data-testid=snapshot-download]").GetAttribute("href"));
    }

    [Fact]
    public async Task Summary_OfOneHostWithoutService_OffersNoCompareOrServiceLink()
    {
        await using var t = SnapshotContext.Create();
        var s = t.Snapshots.Add(SnapshotSamples.Snapshot(13, "one host", [SnapshotSamples.Host("web-1", 700)]));

        var cut = t.Ctx.Render<SnapshotPage>(p => p.Add(x => x.Id, s.Info.Id));

        Assert.Single(cut.FindAll("[data-testid=snapshot-host-link]"));
        Assert.Empty(cut.FindAll("[data-testid=snapshot-service-link]"));
        Assert.Empty(cut.FindAll("[data-testid=snapshot-compare-link]"));
        Assert.NotNull(cut.Find("[data-testid=no-snapshot-alerts]"));
    }

    [Fact]
    public async Task UnknownId_SaysThereIsNoSuchSnapshot()
    {
        await using var t = SnapshotContext.Create();

        var cut = t.Ctx.Render<SnapshotPage>(p => p.Add(x => x.Id, 999));

        Assert.Contains("no snapshot 999", cut.Find("[data-testid=not-found]").TextContent, StringComparison.Ordinal);
        Assert.Equal("/snapshots", cut.Find("[data-testid=not-found] a").GetAttribute("href"));
    }

    [Fact]
    public void DefaultTitle_NamesTheHostAndTheWindowsEndInUtc()
    {
        var window = new Fleet.Web.Data.TimeWindow(SnapshotSamples.From, new DateTimeOffset(2026, 11, 28, 15, 2, 0, TimeSpan.FromHours(1)), false, "custom");

        Assert.Equal("Incident on web-1, 28 Nov 14:02 UTC", SnapshotTexts.DefaultTitle(Fleet.Web.Data.SnapshotOrigin.Host, ["web-1"], null, window));
    }
}
