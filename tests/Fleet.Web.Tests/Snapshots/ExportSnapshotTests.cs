using Fleet.Web.Components.Pages;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Web.Tests.Snapshots;

public sealed class ExportSnapshotTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static void OneLiveHost(SnapshotContext t, string name = "web-1")
    {
        var now = DateTimeOffset.UtcNow;
        t.Data.Hosts[name] = Samples.HostView(Samples.HostDetail(name, now.AddSeconds(-10), 5, Samples.ServiceRow("api", 4)),
            Samples.Series("close_wait", Samples.Line("api", (now.AddMinutes(-1), 4))));
    }

    [Fact]
    public async Task Export_FromTheHostPage_SendsItsHostAndWindowWithTheTypedTitle_AndOpensTheNewSnapshot()
    {
        await using var t = SnapshotContext.Create();
        OneLiveHost(t);
        var nav = t.Ctx.Services.GetRequiredService<NavigationManager>();
        nav.NavigateTo("/hosts/web-1?range=6h");
        var cut = t.Ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));
        var window = Assert.Single(t.Data.HostWindows);

        cut.Find("[data-testid=export-snapshot]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=snapshot-dialog]"), Wait);
        Assert.StartsWith("Incident on web-1, ", t.Dialogs.Find("input[data-testid=snapshot-title]").GetAttribute("value"), StringComparison.Ordinal);
        Assert.Equal("web-1", t.Dialogs.Find("[data-testid=snapshot-hosts]").TextContent.Trim());
        t.Dialogs.Find("input[data-testid=snapshot-title]").Change("api ran out of fds");
        t.Dialogs.Find("textarea[data-testid=snapshot-notes]").Change("OPS-12");
        t.Dialogs.Find("[data-testid=snapshot-create]").Click();

        cut.WaitForAssertion(() => Assert.Contains("/snapshots/", nav.Uri, StringComparison.Ordinal), Wait);
        var request = Assert.Single(t.Snapshots.Created);
        Assert.Equal("api ran out of fds", request.Title);
        Assert.Equal("OPS-12", request.Notes);
        Assert.Equal(SnapshotOrigin.Host, request.Origin);
        Assert.Equal(["web-1"], request.Hosts);
        Assert.Null(request.Service);
        Assert.Equal(window.From, request.From);
        Assert.Equal(window.To, request.To);
        var created = Assert.Single(await t.Snapshots.ListAsync(CancellationToken.None));
        Assert.EndsWith($"/snapshots/{created.Id}", nav.Uri, StringComparison.Ordinal);
        t.Dialogs.WaitForAssertion(() => Assert.Empty(t.Dialogs.FindAll("[data-testid=snapshot-dialog]")), Wait);
    }

    [Fact]
    public async Task Export_FromTheServicePage_SendsTheServiceAndItsInstancesHosts()
    {
        await using var t = SnapshotContext.Create();
        var live = SnapshotSamples.Service("api", "web-1", "web-2");
        t.Data.Services["api"] = live;
        var nav = t.Ctx.Services.GetRequiredService<NavigationManager>();
        var cut = t.Ctx.Render<ServicePage>(p => p.Add(s => s.Name, "api"));

        cut.Find("[data-testid=export-snapshot]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=snapshot-create]"), Wait);
        Assert.Equal("api", t.Dialogs.Find("[data-testid=snapshot-service]").TextContent.Trim());
        t.Dialogs.Find("[data-testid=snapshot-create]").Click();

        cut.WaitForAssertion(() => Assert.Single(t.Snapshots.Created), Wait);
        var request = t.Snapshots.Created[0];
        Assert.Equal(SnapshotOrigin.Service, request.Origin);
        Assert.Equal("api", request.Service);
        Assert.Equal(live.Instances.Select(i => i.Host).Order(StringComparer.Ordinal), request.Hosts.Order(StringComparer.Ordinal));
        Assert.StartsWith("Incident on service api, ", request.Title, StringComparison.Ordinal);
        var created = Assert.Single(await t.Snapshots.ListAsync(CancellationToken.None));
        cut.WaitForAssertion(() => Assert.EndsWith($"/snapshots/{created.Id}", nav.Uri, StringComparison.Ordinal), Wait);
    }

    [Fact]
    public async Task Export_WhenTheStoreRefuses_ShowsEachErrorInTheDialog_AndStaysOnThePage()
    {
        await using var t = SnapshotContext.Create();
        OneLiveHost(t);
        t.Snapshots.CreateRefusal = ["hosts: web-1 sent no snapshot in the window", "to: the range is at most 7 days"];
        var nav = t.Ctx.Services.GetRequiredService<NavigationManager>();
        var cut = t.Ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));
        var before = nav.Uri;

        cut.Find("[data-testid=export-snapshot]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=snapshot-create]"), Wait);
        t.Dialogs.Find("input[data-testid=snapshot-title]").Change("kept title");
        t.Dialogs.Find("[data-testid=snapshot-create]").Click();

        t.Dialogs.WaitForAssertion(() => Assert.Equal(t.Snapshots.CreateRefusal,
            t.Dialogs.FindAll("[data-testid=snapshot-error]").Select(e => e.TextContent.Trim())), Wait);
        Assert.Single(t.Snapshots.Created);
        Assert.Equal("kept title", t.Dialogs.Find("input[data-testid=snapshot-title]").GetAttribute("value"));
        Assert.Equal(before, nav.Uri);
    }

    [Fact]
    public async Task Export_WithAnEmptyTitle_SaysTheTitleIsRequired_AndAsksTheStoreNothing()
    {
        await using var t = SnapshotContext.Create();
        OneLiveHost(t);
        var cut = t.Ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        cut.Find("[data-testid=export-snapshot]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=snapshot-create]"), Wait);
        t.Dialogs.Find("input[data-testid=snapshot-title]").Change("   ");
        t.Dialogs.Find("[data-testid=snapshot-create]").Click();

        t.Dialogs.WaitForAssertion(() => Assert.Equal(["title: required"], t.Dialogs.FindAll("[data-testid=snapshot-error]").Select(e => e.TextContent.Trim())), Wait);
        Assert.Empty(t.Snapshots.Created);
    }

    [Fact]
    public async Task Export_OfAWindowLongerThanAStoreKeeps_SaysSoAsTheDialogOpens_AndCreatesNothing()
    {
        await using var t = SnapshotContext.Create();
        OneLiveHost(t);
        var nav = t.Ctx.Services.GetRequiredService<NavigationManager>();
        nav.NavigateTo("/hosts/web-1?range=30d");
        var cut = t.Ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        cut.Find("[data-testid=export-snapshot]").Click();

        t.Dialogs.WaitForAssertion(() => Assert.Equal([$"to: the range is at most {SnapshotRequest.MaxRange.TotalDays:0} days"],
            t.Dialogs.FindAll("[data-testid=snapshot-error]").Select(e => e.TextContent.Trim())), Wait);
        t.Dialogs.Find("[data-testid=snapshot-create]").Click();
        Assert.Empty(t.Snapshots.Created);
    }
}
