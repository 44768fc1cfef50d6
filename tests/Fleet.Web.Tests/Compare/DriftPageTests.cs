using Fleet.Web.Compare;
using Fleet.Web.Components.Pages;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using static Fleet.Web.Tests.Compare.CompareSamples;

namespace Fleet.Web.Tests.Compare;

public sealed class DriftPageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static BunitContext Context(FakeDriftData drift)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddFleetWeb();
        ctx.SignInAs(FleetRoles.Viewer);
        ctx.Services.AddSingleton<IDriftData>(drift);
        return ctx;
    }

    private static DriftView ThreeHosts()
    {
        var at = Start + TimeSpan.FromHours(1);
        var a = Detail("a", Kernel(), Service("orders-api", 65_536, 65_536, 100));
        var b = Detail("b", Kernel(), Service("orders-api", 65_536, 65_536, 100));
        var c = Detail("c", Kernel() with { ConntrackMax = 32_768 }, Service("orders-api", 1024, 1024, 900));
        var stale = Detail("old", Kernel(), Service("orders-api", 4096, 4096, 1)) with { LastSeen = at - Drift.MaxSnapshotAge - TimeSpan.FromMinutes(1) };
        return Drift.Of([a, b, c, stale], at);
    }

    [Fact]
    public async Task Drift_ShowsPerServiceTheDifferingSettings_WithAValuePerHost_AndTheFindings()
    {
        var drift = new FakeDriftData { View = ThreeHosts() };
        await using var ctx = Context(drift);

        var cut = ctx.Render<DriftPage>();

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-test=service-drift]")), Wait);
        var service = cut.Find("[data-test=service-drift][data-service=orders-api]");
        Assert.Equal(["a", "b", "c"], service.QuerySelectorAll("[data-test=host-column]").Select(h => h.TextContent.Trim()));
        var rows = service.QuerySelectorAll("[data-test=setting-row]");
        Assert.All(rows, r => Assert.Equal("true", r.GetAttribute("data-differs")));
        Assert.Equal([HostSettings.NofileSoft, HostSettings.NofileHard, HostSettings.ConntrackMax], rows.Select(r => r.GetAttribute("data-key")));
        var soft = rows[0].QuerySelectorAll("[data-test=setting-value]");
        Assert.Equal(["65536", "65536", "1024"], soft.Select(v => v.TextContent.Trim()));
        Assert.Equal(["false", "false", "true"], soft.Select(v => v.GetAttribute("data-odd")));
        Assert.Contains(service.QuerySelectorAll("[data-test=trouble-finding]"), f => f.GetAttribute("data-subject") == "orders-api on c" && f.GetAttribute("data-key") == HostSettings.NofileSoft);
        Assert.Equal("/compare?hosts=a&hosts=b&hosts=c&service=orders-api", service.QuerySelector("[data-test=compare-link]")!.GetAttribute("href"));
        Assert.Contains("old", cut.Find("[data-test=left-out]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Index_ListsEachDriftingService_WithItsCounts_LinkingToItsTable()
    {
        var at = Start + TimeSpan.FromHours(1);
        var view = Drift.Of(
        [
            Detail("a", Kernel(), Service("orders-api", 65_536, 65_536, 100), Service("cache", 4096, 4096, 10)),
            Detail("b", Kernel(), Service("orders-api", 1024, 1024, 900), Service("cache", 8192, 8192, 10)),
        ], at);
        await using var ctx = Context(new FakeDriftData { View = view });

        var cut = ctx.Render<DriftPage>();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-test=drift-index-row]").Count), Wait);
        var orders = cut.Find("[data-test=drift-index-row][data-service=orders-api]");
        var drift = view.Services.Single(s => s.Service == "orders-api");
        Assert.Equal(drift.Findings.Count(f => f.Severity == TroubleSeverity.Critical).ToString(System.Globalization.CultureInfo.InvariantCulture), orders.GetAttribute("data-critical"));
        Assert.NotEqual("0", orders.GetAttribute("data-critical"));
        Assert.Equal("/drift#" + DriftPage.Anchor("orders-api"), orders.QuerySelector("a")!.GetAttribute("href"));
        Assert.NotNull(cut.Find($"[data-test=service-drift][id='{DriftPage.Anchor("orders-api")}']"));
        Assert.Equal("0", cut.Find("[data-test=drift-index-row][data-service=cache]").GetAttribute("data-critical"));
    }

    [Fact]
    public void CompareLink_OverTheCompareLimit_NamesTheMostDifferentHosts_InDriftOrder()
    {
        // 25 hosts run the service; hosts 03 and 17 have an odd soft limit, host 22 an odd conntrack too.
        var at = Start + TimeSpan.FromHours(1);
        var hosts = Enumerable.Range(1, 25).Select(i =>
        {
            var name = $"h{i:00}";
            var kernel = i == 22 ? Kernel() with { ConntrackMax = 32_768 } : Kernel();
            ulong soft = i is 3 or 17 or 22 ? 1024UL : 65_536UL;
            return Detail(name, kernel, Service("orders-api", soft, 65_536, 100));
        }).ToList();
        var drift = Assert.Single(Drift.Of(hosts, at).Services);

        var linked = DriftPage.CompareHosts(drift);

        Assert.Equal(SnapshotRequest.MaxHosts, linked.Count);
        Assert.Contains("h03", linked);
        Assert.Contains("h17", linked);
        Assert.Contains("h22", linked);
        Assert.Equal(linked.Order(StringComparer.Ordinal), linked);
        Assert.Equal(SnapshotRequest.MaxHosts, DriftPage.CompareHref(drift).Split("hosts=").Length - 1);
    }

    [Fact]
    public async Task HostTrouble_IsListedOncePerHost_NotUnderTheServices()
    {
        await using var ctx = Context(new FakeDriftData { View = ThreeHosts() });

        var cut = ctx.Render<DriftPage>();

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-test=host-findings]")), Wait);
        var hostFindings = cut.FindAll("[data-test=host-findings] [data-test=trouble-finding]");
        Assert.Contains(hostFindings, f => f.GetAttribute("data-subject") == "c" && f.GetAttribute("data-key") == HostSettings.ConntrackMax);
        var service = cut.Find("[data-test=service-drift][data-service=orders-api]");
        Assert.DoesNotContain(service.QuerySelectorAll("[data-test=trouble-finding]"), f => f.GetAttribute("data-key") == HostSettings.ConntrackMax);
    }

    [Fact]
    public async Task NoDrift_SaysSo()
    {
        var at = Start;
        var same = Drift.Of([Detail("a", Kernel(), Service("api", 1024, 4096, 1)), Detail("b", Kernel(), Service("api", 1024, 4096, 1))], at);
        await using var ctx = Context(new FakeDriftData { View = same });

        var cut = ctx.Render<DriftPage>();

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-test=no-drift]")), Wait);
        Assert.Empty(cut.FindAll("[data-test=service-drift]"));
    }

    [Fact]
    public async Task Failure_IsShown()
    {
        await using var ctx = Context(new FakeDriftData { Failure = new InvalidOperationException("database down") });

        var cut = ctx.Render<DriftPage>();

        cut.WaitForAssertion(() => Assert.Contains("database down", cut.Find("[data-test=load-error]").TextContent, StringComparison.Ordinal), Wait);
    }
}
