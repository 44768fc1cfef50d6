using Fleet.Web.Charts;
using Fleet.Web.Compare;
using Fleet.Web.Data;
using MudBlazor.Services;
using static Fleet.Web.Tests.Compare.CompareSamples;

namespace Fleet.Web.Tests.Compare;

public sealed class CompareBodyTests
{
    private static BunitContext Context()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        return ctx;
    }

    private static CompareView TwoHosts(IReadOnlyList<string>? missing = null)
    {
        var narrow = Kernel() with { EphemeralPortLow = 40000, EphemeralPortHigh = 44999 };
        var series = Empty with { OpenFdsByService = Set("open_fds", Line("orders-api", 100, 200, 300)) };
        var busy = View(Detail("busy", narrow, Service("orders-api", 1024, 65_536, 870)), series);
        var roomy = View(Detail("roomy", Kernel(), Service("orders-api", 65_536, 65_536, 870)), series);
        return Comparison.Of([busy, roomy], null, Window, missing ?? []);
    }

    [Fact]
    public async Task SettingsTable_MarksTheRowsThatDiffer()
    {
        await using var ctx = Context();
        var view = TwoHosts();

        var cut = ctx.Render<CompareBody>(p => p.Add(b => b.View, view));

        var rows = cut.FindAll("[data-test=setting-row]");
        Assert.Equal(view.Settings.Count, rows.Count);
        var differing = rows.Where(r => r.GetAttribute("data-differs") == "true").Select(r => r.GetAttribute("data-key")).ToList();
        Assert.Equal([HostSettings.NofileSoft, HostSettings.PortRange], differing);
        var soft = cut.Find($"[data-test=setting-row][data-key={HostSettings.NofileSoft}]");
        Assert.Equal(["1024", "65536"], soft.QuerySelectorAll("[data-test=setting-value]").Select(c => c.TextContent.Trim()));
        Assert.Equal("false", cut.Find($"[data-test=setting-row][data-key={HostSettings.FileMax}]").GetAttribute("data-differs"));
        Assert.Equal(["busy", "roomy"], cut.FindAll("[data-test=subject-column]").Select(c => c.TextContent.Trim()));
    }

    [Fact]
    public async Task OnlyDifferences_HidesTheEqualRows()
    {
        await using var ctx = Context();
        var cut = ctx.Render<CompareBody>(p => p.Add(b => b.View, TwoHosts()));

        cut.Find("input[data-test=only-differing]").Change(true);

        cut.WaitForAssertion(() => Assert.All(cut.FindAll("[data-test=setting-row]"), r => Assert.Equal("true", r.GetAttribute("data-differs"))), TimeSpan.FromSeconds(5));
        Assert.Equal(2, cut.FindAll("[data-test=setting-row]").Count);
    }

    [Fact]
    public async Task Findings_AreListedWithTheirSeverity()
    {
        await using var ctx = Context();
        var view = TwoHosts();

        var cut = ctx.Render<CompareBody>(p => p.Add(b => b.View, view));

        var findings = cut.FindAll("[data-test=trouble-finding]");
        Assert.Equal(view.Findings.Count, findings.Count);
        var low = Assert.Single(findings, f => f.TextContent.Contains("soft nofile 1024 on orders-api", StringComparison.Ordinal));
        Assert.Equal(HostSettings.NofileSoft, low.GetAttribute("data-key"));
        Assert.Equal("busy", low.GetAttribute("data-subject"));
        Assert.Equal("critical", low.GetAttribute("data-severity"));
        Assert.Contains("soft nofile 1024 on orders-api", low.TextContent, StringComparison.Ordinal);
        Assert.Contains(findings, f => f.GetAttribute("data-key") == HostSettings.PortRange && f.GetAttribute("data-severity") == "warning");
    }

    [Fact]
    public async Task Graphs_HaveALinePerSubject_OnTheSameTimeAxis()
    {
        await using var ctx = Context();
        var view = TwoHosts();

        var cut = ctx.Render<CompareBody>(p => p.Add(b => b.View, view));

        var graphs = cut.FindAll("[data-test=compare-graph]");
        Assert.Equal(7, graphs.Count);
        Assert.All(graphs, g => Assert.Equal("2", g.GetAttribute("data-lines")));
        var openFds = cut.Find("[data-testid=compare-open_fds]");
        Assert.Equal("6", openFds.GetAttribute("data-points"));
        var axis = cut.Find("[data-test=compare-axis]");
        Assert.Equal(Fleet.Web.Display.TimeRanges.FormatInstant(Window.From), axis.GetAttribute("data-from"));
        Assert.Equal(Fleet.Web.Display.TimeRanges.FormatInstant(Window.To), axis.GetAttribute("data-to"));
    }

    [Fact]
    public async Task Graphs_DrawEightHosts_OneLineEach_MoreThanAHostPageChartDraws()
    {
        await using var ctx = Context();
        var series = Empty with { OpenFdsByService = Set("open_fds", Line("api", 100, 200, 300)) };
        var hosts = Enumerable.Range(1, TimeChart.MostDistinctLines + 1)
            .Select(i => View(Detail($"h{i}", Kernel(), Service("api", 4096, 4096, 100)), series)).ToList();

        var cut = ctx.Render<CompareBody>(p => p.Add(b => b.View, Comparison.Of(hosts, null, Window, [])));

        var openFds = cut.Find("[data-testid=compare-open_fds]");
        Assert.True(TimeChart.MostDistinctLines > TimeChart.DefaultMaxLines);
        Assert.Equal(TimeChart.MostDistinctLines.ToString(System.Globalization.CultureInfo.InvariantCulture), openFds.GetAttribute("data-shown"));
        Assert.Contains($"the {TimeChart.MostDistinctLines} highest of {hosts.Count} lines", openFds.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingHosts_AreNoted()
    {
        await using var ctx = Context();

        var cut = ctx.Render<CompareBody>(p => p.Add(b => b.View, TwoHosts(["gone-1"])));

        Assert.Equal(["gone-1"], cut.FindAll("[data-test=missing-host]").Select(h => h.GetAttribute("data-host")));
    }
}
