using System.Globalization;
using Fleet.Web.Components.Pages;
using Fleet.Web.Components.Snapshots;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;

namespace Fleet.Web.Tests.Snapshots;

/// <summary>The host and service pages opened from a snapshot: the snapshot's figures, its window and alerts, no live feed.</summary>
public sealed class ReadOnlyPagesTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static IncidentSnapshot TwoHostSnapshot(SnapshotContext t)
    {
        var snapshot = SnapshotSamples.Snapshot(7, "api leak", [SnapshotSamples.Host("web-1", 777), SnapshotSamples.Host("web-2", 555)],
            SnapshotSamples.Service("api", "web-1", "web-2"),
            SnapshotSamples.Alert(1, "web-1", "fds high"), SnapshotSamples.Alert(2, "web-2", "fds high on web-2"));
        t.Snapshots.Add(snapshot);
        // The same host live, with other figures: the read-only page must not show these.
        var now = DateTimeOffset.UtcNow;
        t.Data.Hosts["web-1"] = Samples.HostView(Samples.HostDetail("web-1", now, 900, Samples.ServiceRow("api", 1)), Samples.Series("close_wait"));
        t.Data.Services["api"] = SnapshotSamples.Service("api", "web-9");
        return snapshot;
    }

    [Fact]
    public async Task HostPage_OfASnapshot_ShowsTheFrozenFigures_AndFollowsNoLiveFeed()
    {
        await using var t = SnapshotContext.Create();
        var snapshot = TwoHostSnapshot(t);
        var frozen = snapshot.Hosts[0].Detail;

        var cut = t.Ctx.Render<HostPage>(p => p.Add(h => h.SnapshotId, snapshot.Info.Id).Add(h => h.Name, "web-1"));

        var fds = cut.Find($"[data-testid=process-row][data-pid='{frozen.Processes[0].Pid}'] td[data-value]");
        Assert.Equal(frozen.Processes[0].OpenFds.ToString(CultureInfo.InvariantCulture), fds.GetAttribute("data-value"));
        Assert.Equal(frozen.Sequence.ToString(CultureInfo.InvariantCulture), cut.Find("[data-testid=last-snapshot]").GetAttribute("data-sequence"));
        var points = snapshot.Hosts[0].Series.CloseWaitByService.Series.Sum(s => s.Points.Count(p => p.Value is not null));
        Assert.Equal(points.ToString(CultureInfo.InvariantCulture), cut.Find("[data-testid=close-wait-chart]").GetAttribute("data-points"));
        // Rendered (so a live page would have subscribed by now), yet nothing followed and nothing live was read.
        Assert.Equal(0, t.Feed.ActiveSubscriptions);
        Assert.Empty(t.Data.HostWindows);
        Assert.Contains("'api leak', read-only", cut.Find("[data-testid=snapshot-banner]").TextContent, StringComparison.Ordinal);
        Assert.Equal(SnapshotTexts.Href(snapshot.Info.Id), cut.Find("[data-testid=snapshot-back]").GetAttribute("href"));
        Assert.Empty(cut.FindAll("[data-testid=export-snapshot]"));
        Assert.Empty(cut.FindAll("[data-testid=range-1h]"));
        Assert.Empty(cut.FindAll("[data-testid=firing-alerts]"));
        // The snapshot's alerts of this host only.
        Assert.Equal(["fds high"], cut.FindAll("[data-testid=snapshot-alert]").Select(a => a.GetAttribute("data-rule")));
    }

    [Fact]
    public async Task HostPage_OfASnapshot_DrawsTheFrozenProjection_AndItsRestarts()
    {
        await using var t = SnapshotContext.Create();
        var at = SnapshotSamples.To.AddMinutes(-1);
        var leak = ProjectionSamples.Leak("web-1", "api", at, TimeSpan.FromMinutes(200), 42, SnapshotSamples.To.AddMinutes(-30));
        var frozen = SnapshotSamples.Host("web-1", 777);
        var detail = frozen.Detail with { Services = [frozen.Detail.Services[0] with { Projection = leak }] };
        var soft = Samples.Series("soft_pct", Samples.Line("api", (SnapshotSamples.From.AddMinutes(10), 60), (at, 70)));
        var snapshot = SnapshotSamples.Snapshot(8, "api leak", [Samples.HostView(detail, frozen.Series.CloseWaitByService, soft)]);
        t.Snapshots.Add(snapshot);

        var cut = t.Ctx.Render<HostPage>(p => p.Add(h => h.SnapshotId, snapshot.Info.Id).Add(h => h.Name, "web-1"));

        cut.WaitForAssertion(() =>
        {
            var chart = cut.Find("[data-testid=limits-chart]");
            Assert.Equal("1", chart.GetAttribute("data-projection"));
            Assert.Equal("1", chart.GetAttribute("data-restarts"));
        }, Wait);
        Assert.Empty(t.Data.HostWindows);
    }

    [Fact]
    public async Task ServicePage_OfASnapshot_DrawsTheInstancesFrozenProjections()
    {
        await using var t = SnapshotContext.Create();
        var at = SnapshotSamples.To.AddMinutes(-1);
        var service = SnapshotSamples.Service("api", "web-1", "web-2");
        service = service with
        {
            Instances = [.. service.Instances.Select(i => i with { Latest = i.Latest with { Projection = ProjectionSamples.Leak(i.Host, "api", at, TimeSpan.FromMinutes(90)) } })],
        };
        var snapshot = SnapshotSamples.Snapshot(9, "api leak", [SnapshotSamples.Host("web-1", 777), SnapshotSamples.Host("web-2", 555)], service);
        t.Snapshots.Add(snapshot);

        var cut = t.Ctx.Render<ServicePage>(p => p.Add(s => s.SnapshotId, snapshot.Info.Id).Add(s => s.Name, "api"));

        cut.WaitForAssertion(() => Assert.Equal("2", cut.Find("[data-testid=service-limits-chart]").GetAttribute("data-projection")), Wait);
    }

    [Fact]
    public async Task HostPage_OfASnapshot_LinksToTheSnapshotsServicePage()
    {
        await using var t = SnapshotContext.Create();
        var snapshot = TwoHostSnapshot(t);

        var cut = t.Ctx.Render<HostPage>(p => p.Add(h => h.SnapshotId, snapshot.Info.Id).Add(h => h.Name, "web-1"));

        Assert.Equal(SnapshotTexts.ServiceHref(snapshot.Info.Id, "api"),
            cut.Find("[data-testid=service-row][data-service=api] [data-testid=service-link]").GetAttribute("href"));
    }

    [Fact]
    public async Task HostPage_OfASnapshotWithoutThatHost_SaysSo()
    {
        await using var t = SnapshotContext.Create();
        var snapshot = TwoHostSnapshot(t);

        var cut = t.Ctx.Render<HostPage>(p => p.Add(h => h.SnapshotId, snapshot.Info.Id).Add(h => h.Name, "web-1"));
        Assert.NotEmpty(cut.FindAll("[data-testid=process-row]"));
        cut.Render(p => p.Add(h => h.SnapshotId, snapshot.Info.Id).Add(h => h.Name, "db-3"));

        Assert.Contains("holds no host named db-3", cut.Find("[data-testid=not-found]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostPage_OfAnUnknownSnapshot_SaysThereIsNone()
    {
        await using var t = SnapshotContext.Create();
        TwoHostSnapshot(t);

        var cut = t.Ctx.Render<HostPage>(p => p.Add(h => h.SnapshotId, 4040).Add(h => h.Name, "web-1"));

        Assert.Contains("no snapshot 4040", cut.Find("[data-testid=not-found]").TextContent, StringComparison.Ordinal);
        Assert.Equal(0, t.Feed.ActiveSubscriptions);
    }

    [Fact]
    public async Task ServicePage_OfASnapshot_ShowsTheFrozenInstances_LinksToTheFrozenHosts_AndFollowsNoLiveFeed()
    {
        await using var t = SnapshotContext.Create();
        var snapshot = TwoHostSnapshot(t);

        var cut = t.Ctx.Render<ServicePage>(p => p.Add(s => s.SnapshotId, snapshot.Info.Id).Add(s => s.Name, "api"));

        Assert.Equal(snapshot.ServiceView!.Instances.Select(i => i.Host).Order(StringComparer.Ordinal),
            cut.FindAll("[data-testid=instance-row]").Select(r => r.GetAttribute("data-host")).Order(StringComparer.Ordinal));
        Assert.Equal(SnapshotTexts.HostHref(snapshot.Info.Id, "web-2"), cut.Find("[data-testid=instance-row][data-host=web-2] [data-testid=host-link]").GetAttribute("href"));
        Assert.Equal(0, t.Feed.ActiveSubscriptions);
        Assert.NotNull(cut.Find("[data-testid=snapshot-banner]"));
        Assert.Empty(cut.FindAll("[data-testid=export-snapshot]"));
        Assert.Equal(2, cut.FindAll("[data-testid=snapshot-alert]").Count);
    }

    [Fact]
    public async Task LivePages_StillFollowTheFeed_AndOfferTheExport()
    {
        await using var t = SnapshotContext.Create();
        TwoHostSnapshot(t);

        var host = t.Ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));
        var service = t.Ctx.Render<ServicePage>(p => p.Add(s => s.Name, "api"));

        host.WaitForAssertion(() => Assert.Equal(2, t.Feed.ActiveSubscriptions), Wait);
        Assert.Equal("900", host.Find("[data-testid=last-snapshot]").GetAttribute("data-sequence"));
        Assert.NotNull(host.Find("[data-testid=export-snapshot]"));
        Assert.NotNull(service.Find("[data-testid=export-snapshot]"));
        Assert.Empty(host.FindAll("[data-testid=snapshot-banner]"));
        Assert.Empty(t.Snapshots.Opened);
    }
}
