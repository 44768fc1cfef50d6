using Fleet.Web.Compare;
using Fleet.Web.Components.Pages;
using Fleet.Web.Components.Snapshots;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using static Fleet.Web.Tests.Compare.CompareSamples;

namespace Fleet.Web.Tests.Compare;

public sealed class ComparePageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Two hosts running orders-api with different limits: soft nofile 1024 (busy) against 65536, and a narrow port range on the first.</summary>
    private static FakeDashboardData TwoHosts()
    {
        var data = new FakeDashboardData();
        var narrow = Kernel() with { EphemeralPortLow = 40000, EphemeralPortHigh = 44999 };
        data.Hosts["busy"] = View(Detail("busy", narrow, Service("orders-api", 1024, 1024, 870), Service("cron", 1024, 1024, 3, pid: 9)));
        data.Hosts["roomy"] = View(Detail("roomy", Kernel(), Service("orders-api", 65_536, 65_536, 870)));
        data.Overview = new FleetOverview(
            [Samples.HostRow("busy", Start), Samples.HostRow("roomy", Start), Samples.HostRow("idle", Start)], [], Samples.Interval);
        return data;
    }

    private static BunitContext Context(FakeDashboardData data, string uri)
    {
        var ctx = DashboardContext.Create(data, new FakeLiveFeed());
        // The export button is helper U's: its dialog is not what these tests read, only the parameters it is given.
        ctx.ComponentFactories.AddStub<ExportSnapshotButton>();
        ctx.Render<MudPopoverProvider>();
        ctx.Services.GetRequiredService<NavigationManager>().NavigateTo(uri);
        return ctx;
    }

    [Fact]
    public async Task TwoHosts_ShowTheirDifferingLimitsAndTheLowSoftLimitFinding()
    {
        var data = TwoHosts();
        await using var ctx = Context(data, "/compare?hosts=busy&hosts=roomy");

        var cut = ctx.Render<ComparePage>();

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-test=setting-row]")), Wait);
        var differing = cut.FindAll("[data-test=setting-row][data-differs=true]").Select(r => (r.GetAttribute("data-key"), r.GetAttribute("data-service"))).ToList();
        Assert.Equal([(HostSettings.NofileSoft, "orders-api"), (HostSettings.NofileHard, "orders-api"), (HostSettings.PortRange, null)], differing);
        var finding = Assert.Single(cut.FindAll("[data-test=trouble-finding]"), f => f.GetAttribute("data-key") == HostSettings.NofileSoft);
        Assert.Equal("busy", finding.GetAttribute("data-subject"));
        Assert.Empty(cut.FindAll("[data-test=compare-problem]"));
    }

    [Fact]
    public async Task ExportButton_GetsTheComparedHostsServiceAndWindow()
    {
        var data = TwoHosts();
        await using var ctx = Context(data, "/compare?hosts=busy,roomy&service=orders-api&range=6h");

        var cut = ctx.Render<ComparePage>();

        cut.WaitForAssertion(() => Assert.Single(cut.FindComponents<Stub<ExportSnapshotButton>>()), Wait);
        var button = cut.FindComponent<Stub<ExportSnapshotButton>>().Instance.Parameters;
        Assert.Equal(SnapshotOrigin.Compare, button.Get(b => b.Origin));
        Assert.Equal(["busy", "roomy"], button.Get(b => b.Hosts));
        Assert.Equal("orders-api", button.Get(b => b.Service));
        Assert.Equal(TimeSpan.FromHours(6), button.Get(b => b.Window).Length);
        Assert.Equal(["orders-api on busy", "orders-api on roomy"], cut.FindAll("[data-test=subject-column]").Select(c => c.TextContent.Trim()));
    }

    [Fact]
    public async Task OneHost_AsksForAnother()
    {
        await using var ctx = Context(TwoHosts(), "/compare?hosts=busy");

        var cut = ctx.Render<ComparePage>();

        cut.WaitForAssertion(() => Assert.Contains("at least one more host", cut.Find("[data-test=compare-problem]").TextContent, StringComparison.Ordinal), Wait);
    }

    [Fact]
    public async Task NoHosts_AsksToPickThemAndReadsNoHost()
    {
        var data = TwoHosts();
        await using var ctx = Context(data, "/compare");

        var cut = ctx.Render<ComparePage>();

        cut.WaitForAssertion(() => Assert.Contains("Pick two or more hosts", cut.Find("[data-test=compare-problem]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Empty(data.HostWindows);
        Assert.Empty(cut.FindAll("[data-test=compare-body]"));
    }

    [Fact]
    public async Task UnknownHost_IsNamed_AndTheOthersAreCompared()
    {
        await using var ctx = Context(TwoHosts(), "/compare?hosts=busy&hosts=ghost&hosts=roomy");

        var cut = ctx.Render<ComparePage>();

        cut.WaitForAssertion(() => Assert.Contains("ghost", cut.Find("[data-test=unknown-hosts]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Equal(["busy", "roomy"], cut.FindAll("[data-test=subject-column]").Select(c => c.TextContent.Trim()));
    }

    [Fact]
    public async Task TooManyHosts_AreRefusedWithoutReadingThem()
    {
        var data = TwoHosts();
        var hosts = string.Join("&", Enumerable.Range(0, SnapshotRequest.MaxHosts + 1).Select(i => $"hosts=h{i}"));
        await using var ctx = Context(data, "/compare?" + hosts);

        var cut = ctx.Render<ComparePage>();

        cut.WaitForAssertion(() => Assert.Contains($"at most {SnapshotRequest.MaxHosts}", cut.Find("[data-test=compare-problem]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Empty(data.HostWindows);
    }

    [Fact]
    public async Task HostPicker_ListsTheFleetsHosts()
    {
        await using var ctx = Context(TwoHosts(), "/compare");
        var cut = ctx.Render<ComparePage>();

        var picker = cut.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "Hosts");
        cut.WaitForAssertion(() => Assert.Equal(["busy", "idle", "roomy"], picker.FindComponents<MudSelectItem<string>>().Select(i => i.Instance.Value)), Wait);
    }
}
