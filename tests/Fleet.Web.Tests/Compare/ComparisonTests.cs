using Fleet.Web.Compare;
using Fleet.Web.Data;
using static Fleet.Web.Tests.Compare.CompareSamples;

namespace Fleet.Web.Tests.Compare;

public sealed class ComparisonTests
{
    private static SettingRow RowOf(CompareView view, string key, string? service = null) =>
        Assert.Single(view.Settings, r => r.Key == key && r.Service == service);

    private static double?[] Values(SeriesSet set, string line) =>
        [.. Assert.Single(set.Series, s => s.Name == line).Points.Select(p => p.Value)];

    [Fact]
    public void HostMode_OneSubjectPerHost_InTheOrderGiven()
    {
        var a = View(Detail("b-host", Kernel(), Service("api", 1024, 4096, 10)));
        var b = View(Detail("a-host", Kernel(), Service("api", 1024, 4096, 10)));

        var view = Comparison.Of([a, b], null, Window, []);

        Assert.Equal(["b-host", "a-host"], view.Subjects.Select(s => s.Label));
        Assert.All(view.Subjects, s => Assert.Null(s.Service));
        Assert.Empty(view.MissingHosts);
    }

    [Fact]
    public void HostMode_SumsOpenFdsAndCloseWaitOverServicesAndTakesTheWorstPercent()
    {
        var series = Empty with
        {
            OpenFdsByService = Set("open_fds", Line("api", 100, null, 300), Line("worker", 5, null, null)),
            SoftLimitPercentByService = Set("soft_limit_percent", Line("api", 10, null, 30), Line("worker", 50, null, 1)),
            CloseWaitByService = Set("close_wait", Line("api", 1, null, 2), Line(SeriesNames.Unowned, 4, null, 8)),
        };
        var host = View(Detail("web-1", Kernel(), Service("api", 1024, 4096, 300), Service("worker", 1024, 4096, 1)), series);

        var view = Comparison.Of([host], null, Window, []);

        Assert.Equal([105, null, 300], Values(view.Series.OpenFds, "web-1"));
        Assert.Equal([50, null, 30], Values(view.Series.SoftLimitPercent, "web-1"));
        // The host's CLOSE_WAIT counts the sockets no process owns too.
        Assert.Equal([5, null, 10], Values(view.Series.CloseWait, "web-1"));
    }

    [Fact]
    public void Lines_AreAlignedByTime_WhenAHostLacksTheFirstBuckets()
    {
        var early = View(Detail("early", Kernel(), Service("api", 1024, 4096, 10)),
            Empty with { OpenFdsByService = Set("open_fds", Line("api", 1, 2, 3)) });
        var lateLine = new MetricSeries("api", [new MetricPoint(Start + 2 * Step, 30)]);
        var late = View(Detail("late", Kernel(), Service("api", 1024, 4096, 10)),
            Empty with { OpenFdsByService = Set("open_fds", lateLine) });

        var view = Comparison.Of([early, late], null, Window, []);

        var lateValues = Assert.Single(view.Series.OpenFds.Series, s => s.Name == "late").Points;
        var earlyValues = Assert.Single(view.Series.OpenFds.Series, s => s.Name == "early").Points;
        Assert.Equal(earlyValues.Select(p => p.Time), lateValues.Select(p => p.Time));
        Assert.Equal([null, null, 30], lateValues.Select(p => p.Value));
        Assert.Equal([1, 2, 3], earlyValues.Select(p => p.Value));
    }

    [Fact]
    public void Headroom_IsInPercentOfTheHostsLimits()
    {
        var system = Kernel() with { FileHandlesMax = 4000, EphemeralPortLow = 50000, EphemeralPortHigh = 50999, TcpMaxOrphans = 200, ConntrackMax = 1000 };
        var series = Empty with
        {
            FileHandles = Set("file_handles", Line("web-1", 1000, 2000)),
            EphemeralPorts = Set("ephemeral_ports", Line("web-1", 250, null)),
            TcpOrphans = Set("tcp_orphans", Line("web-1", 50, 100)),
            Conntrack = Set("conntrack", Line("web-1", 10, 900)),
        };
        var view = Comparison.Of([View(Detail("web-1", system), series)], null, Window, []);

        Assert.Equal([100.0 * 1000 / 4000, 100.0 * 2000 / 4000], Values(view.Series.FileHandlesPercent, "web-1"));
        Assert.Equal([100.0 * 250 / 1000, null], Values(view.Series.EphemeralPortsPercent, "web-1"));
        Assert.Equal([100.0 * 50 / 200, 100.0 * 100 / 200], Values(view.Series.OrphansPercent, "web-1"));
        Assert.Equal([100.0 * 10 / 1000, 100.0 * 900 / 1000], Values(view.Series.ConntrackPercent, "web-1"));
    }

    [Fact]
    public void Conntrack_OnAHostWithoutIt_IsAGap()
    {
        var system = Kernel() with { ConntrackPresent = false, ConntrackMax = 0 };
        var series = Empty with { Conntrack = Set("conntrack", Line("web-1", 0, 0)), FileHandles = Set("file_handles", Line("web-1", 10, 10)) };

        var view = Comparison.Of([View(Detail("web-1", system), series)], null, Window, []);

        Assert.All(Values(view.Series.ConntrackPercent, "web-1"), v => Assert.Null(v));
        Assert.Equal("absent", RowOf(view, HostSettings.ConntrackMax).Values[0]);
    }

    [Fact]
    public void ServiceMode_ComparesTheServicesInstances_AndListsHostsNotRunningIt()
    {
        var series = Empty with
        {
            OpenFdsByService = Set("open_fds", Line("api", 100, 200), Line("worker", 7, 7)),
            CloseWaitByService = Set("close_wait", Line("api", 1, 2), Line(SeriesNames.Unowned, 40, 40)),
        };
        var a = View(Detail("a", Kernel(), Service("api", 1024, 4096, 200), Service("worker", 1024, 4096, 7)), series);
        var b = View(Detail("b", Kernel(), Service("worker", 1024, 4096, 7)), series);
        var c = View(Detail("c", Kernel(), Service("api", 65536, 65536, 20)), series);

        var view = Comparison.Of([a, b, c], "api", Window, ["gone"]);

        Assert.Equal([new CompareSubject("a", "api"), new CompareSubject("c", "api")], view.Subjects);
        Assert.Equal(["gone", "b"], view.MissingHosts);
        Assert.Equal([100, 200], Values(view.Series.OpenFds, "api on a"));
        Assert.Equal([1, 2], Values(view.Series.CloseWait, "api on a"));
        // Only the service's nofile rows, not the worker's.
        Assert.All(view.Settings.Where(r => r.Service is not null), r => Assert.Equal("api", r.Service));
        Assert.True(RowOf(view, HostSettings.NofileSoft, "api").Differs);
    }

    [Fact]
    public void Settings_MarkOnlyTheSettingsThatDiffer()
    {
        var narrow = Kernel() with { EphemeralPortLow = 40000, EphemeralPortHigh = 44999, ConntrackMax = 65_536 };
        var a = View(Detail("a", Kernel(), Service("orders-api", 1024, 524_288, 10)));
        var b = View(Detail("b", narrow, Service("orders-api", 65_536, 524_288, 10)));

        var view = Comparison.Of([a, b], null, Window, []);

        string[] differing = [.. view.Settings.Where(r => r.Differs).Select(r => r.Key)];
        Assert.Equal([HostSettings.NofileSoft, HostSettings.PortRange, HostSettings.ConntrackMax], differing);
        Assert.Equal(["1024", "65536"], RowOf(view, HostSettings.NofileSoft, "orders-api").Values);
        Assert.Equal(["32768–60999", "40000–44999"], RowOf(view, HostSettings.PortRange).Values);
        Assert.False(RowOf(view, HostSettings.NofileHard, "orders-api").Differs);
        Assert.False(RowOf(view, HostSettings.FileMax).Differs);
        Assert.False(RowOf(view, HostSettings.Kernel).Differs);
    }

    [Fact]
    public void Settings_HostMode_HaveARowPairPerService_AndAServiceMissingOnAHostIsNoDifference()
    {
        var a = View(Detail("a", Kernel(), Service("api", 1024, 4096, 10), Service("cron", 1024, 4096, 1, pid: 7)));
        var b = View(Detail("b", Kernel(), Service("api", 1024, 4096, 10)));

        var view = Comparison.Of([a, b], null, Window, []);

        Assert.Equal(["api", "api", "cron", "cron"], view.Settings.Where(r => r.Service is not null).Select(r => r.Service));
        var cron = RowOf(view, HostSettings.NofileSoft, "cron");
        Assert.Equal("1024", cron.Values[0]);
        Assert.Null(cron.Values[1]);
        Assert.False(cron.Differs);
    }

    [Fact]
    public void Nofile_WhenTheServicesProcessesDiffer_IsTheirRange()
    {
        var (row, first) = Service("api", 1024, 4096, 10, pid: 1);
        var (_, second) = Service("api", 8192, 4096, 10, pid: 2);
        var detail = Detail("a", Kernel(), [(row, first)]) with { Processes = [first, second] };

        Assert.Equal("1024–8192", HostSettings.NofileOf(detail, "api", hard: false));
        Assert.Equal("4096", HostSettings.NofileOf(detail, "api", hard: true));
    }

    [Fact]
    public void Nofile_WithoutItsProcessesInTheDetail_IsTheWorstProcesssLimit_AndUnlimitedReadsSo()
    {
        var (row, _) = Service("api", ulong.MaxValue, ulong.MaxValue, 10);
        var detail = Detail("a", Kernel(), Service("other", 1024, 4096, 1)) with { Services = [row] };

        Assert.Equal(HostSettings.Unlimited, HostSettings.NofileOf(detail, "api", hard: false));
        Assert.Null(HostSettings.NofileOf(detail, "absent", hard: false));
    }

    [Fact]
    public void Findings_RaiseTheLowSoftLimitForTheBusyHostOnly()
    {
        ulong soft = KnownTrouble.LowSoftNofile;
        ulong busyFds = (ulong)(soft * 0.85);
        var busy = View(Detail("busy", Kernel(), Service("orders-api", soft, 524_288, busyFds)));
        var idle = View(Detail("idle", Kernel(), Service("orders-api", soft, 524_288, 20)));

        var view = Comparison.Of([busy, idle], null, Window, []);

        var finding = Assert.Single(view.Findings, f => f.Key == HostSettings.NofileSoft && f.Message.StartsWith("soft nofile 1024", StringComparison.Ordinal));
        Assert.Equal("busy", finding.Subject);
        Assert.Contains($"{busyFds} fds", finding.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(view.Findings, f => f.Subject == "idle");
    }

    [Fact]
    public void Series_HaveOneLinePerSubject_EvenWithoutData()
    {
        var a = View(Detail("a", Kernel()));
        var b = View(Detail("b", Kernel()));

        var view = Comparison.Of([a, b], null, Window, []);

        foreach (var set in new[] { view.Series.OpenFds, view.Series.CloseWait, view.Series.ConntrackPercent })
        {
            Assert.Equal(["a", "b"], set.Series.Select(s => s.Name));
        }
    }
}
