using Fleet.Contracts.V1;
using Fleet.Server.Dashboard;
using Fleet.Server.Tests.Dashboard;
using Fleet.Server.Tests.Storage;
using Fleet.Web.Compare;
using Fleet.Web.Data;
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;

namespace Fleet.Server.Tests.Compare;

/// <summary>
/// Two hosts with different limits, stored through the production store and read back as the compare page reads
/// them (PostgresDashboardData.HostAsync), then compared: exactly the differing settings are marked.
/// </summary>
public sealed class CompareLimitsTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly DateTimeOffset Now = StorageHarness.Start;

    private static TimeWindow LastHour => Window(Now.AddHours(-1), Now);

    /// <summary>
    /// "busy": orders-api at soft nofile 1024 with 870 fds open, ports 40000–44999, nf_conntrack_max 65536.
    /// "roomy": orders-api at 65536 with the same load, the default port range, nf_conntrack_max 262144.
    /// Both run cron at 1024 with a few fds, and share every other setting.
    /// </summary>
    internal static async Task StoreTwoHostsAsync(StorageHarness harness, string busy, string roomy)
    {
        var busySnapshots = new List<Snapshot>();
        var roomySnapshots = new List<Snapshot>();
        for (ulong seq = 1; seq <= 3; seq++)
        {
            var at = Now.AddMinutes(-40 + 10 * (int)seq);
            var closeWait = ("10.0.0.5", 5432u, 3 + seq);
            var b = Make(busy, seq, at, new Proc("orders-api", 100, 860 + 5 * seq, 1024, closeWait), new Proc("cron", 200, 5, 1024));
            b.System.EphemeralPortLow = 40000;
            b.System.EphemeralPortHigh = 44999;
            b.System.ConntrackMax = 65_536;
            busySnapshots.Add(b);
            roomySnapshots.Add(Make(roomy, seq, at, new Proc("orders-api", 100, 860 + 5 * seq, 65_536, closeWait), new Proc("cron", 200, 5, 1024)));
        }
        await harness.StoreAsync([.. busySnapshots]);
        await harness.StoreAsync([.. roomySnapshots]);
    }

    [Fact]
    public async Task TwoHostsWithDifferentLimits_DifferInExactlyThoseSettings_AndTheBusyOneGetsTheLowSoftLimitFinding()
    {
        await StoreTwoHostsAsync(harness, "cmp-busy", "cmp-roomy");
        var data = new PostgresDashboardData(harness.DataSource);

        var busy = await data.HostAsync("cmp-busy", LastHour, CancellationToken.None).WaitAsync(TestTimeout);
        var roomy = await data.HostAsync("cmp-roomy", LastHour, CancellationToken.None).WaitAsync(TestTimeout);
        var view = Comparison.Of([busy!, roomy!], null, LastHour, []);

        Assert.Equal(["cmp-busy", "cmp-roomy"], view.Subjects.Select(s => s.Label));
        var differing = view.Settings.Where(r => r.Differs).Select(r => (r.Key, r.Service)).ToList();
        Assert.Equal([(HostSettings.NofileSoft, "orders-api"), (HostSettings.PortRange, null), (HostSettings.ConntrackMax, null)], differing);
        Assert.Equal(["1024", "65536"], view.Settings.Single(r => r.Key == HostSettings.NofileSoft && r.Service == "orders-api").Values);
        Assert.Equal(["40000–44999", "32768–60999"], view.Settings.Single(r => r.Key == HostSettings.PortRange).Values);
        Assert.Equal(["65536", "262144"], view.Settings.Single(r => r.Key == HostSettings.ConntrackMax).Values);
        // Identical settings are not marked, the per-service ones of cron included.
        foreach (var same in new[] { HostSettings.FileMax, HostSettings.NrOpen, HostSettings.FinTimeout, HostSettings.TwReuse, HostSettings.MaxOrphans,
                     HostSettings.InotifyInstances, HostSettings.InotifyWatches, HostSettings.Kernel, HostSettings.AgentVersion })
        {
            var row = view.Settings.Single(r => r.Key == same);
            Assert.False(row.Differs, same);
            Assert.NotNull(row.Values[0]);
            Assert.Equal(row.Values[0], row.Values[1]);
        }
        Assert.False(view.Settings.Single(r => r.Key == HostSettings.NofileHard && r.Service == "orders-api").Differs);
        Assert.All(view.Settings.Where(r => r.Service == "cron"), r => Assert.False(r.Differs));

        var worstFds = busy!.Detail.Services.Single(s => s.Name == "orders-api").WorstOpenFds;
        var low = Assert.Single(view.Findings, f => f.Message.StartsWith("soft nofile 1024 on orders-api", StringComparison.Ordinal));
        Assert.Equal("cmp-busy", low.Subject);
        Assert.Contains($"{worstFds} fds", low.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(view.Findings, f => f.Subject == "cmp-roomy");
        Assert.Contains(view.Findings, f => f.Subject == "cmp-busy" && f.Key == HostSettings.PortRange);
    }

    [Fact]
    public async Task TwoHosts_Series_LineUpOnTheSameTimes_WithTheHostsTotals()
    {
        await StoreTwoHostsAsync(harness, "grid-a", "grid-b");
        var data = new PostgresDashboardData(harness.DataSource);
        var a = await data.HostAsync("grid-a", LastHour, CancellationToken.None).WaitAsync(TestTimeout);
        var b = await data.HostAsync("grid-b", LastHour, CancellationToken.None).WaitAsync(TestTimeout);

        var view = Comparison.Of([a!, b!], null, LastHour, []);

        var lineA = view.Series.OpenFds.Series.Single(s => s.Name == "grid-a").Points;
        var lineB = view.Series.OpenFds.Series.Single(s => s.Name == "grid-b").Points;
        Assert.Equal(lineA.Select(p => p.Time), lineB.Select(p => p.Time));
        // Each host's open fds per point: its services' lines summed (orders-api + cron), 3 snapshots with data.
        var expected = a!.Series.OpenFdsByService.Series.SelectMany(s => s.Points)
            .Where(p => p.Value is not null).GroupBy(p => p.Time).ToDictionary(g => g.Key, g => g.Sum(p => p.Value!.Value));
        Assert.Equal(3, expected.Count);
        Assert.All(lineA.Where(p => p.Value is not null), p => Assert.Equal(expected[p.Time], p.Value));
        Assert.Equal(3, lineA.Count(p => p.Value is not null));
        // CLOSE_WAIT: the host's lines summed (orders-api holds 3 + seq toward one remote, cron none).
        var closeWait = view.Series.CloseWait.Series.Single(s => s.Name == "grid-a").Points.Where(p => p.Value is not null).Select(p => p.Value).ToList();
        Assert.Equal([4.0, 5.0, 6.0], closeWait);
        // File handles in % of fs.file-max (1,000,000 in these snapshots).
        var handles = a.Series.FileHandles.Series.Single().Points.Where(p => p.Value is not null).ToList();
        var percent = view.Series.FileHandlesPercent.Series.Single(s => s.Name == "grid-a").Points.ToDictionary(p => p.Time, p => p.Value);
        Assert.All(handles, h => Assert.Equal(100.0 * h.Value!.Value / 1_000_000, percent[h.Time]!.Value, 9));
    }
}
