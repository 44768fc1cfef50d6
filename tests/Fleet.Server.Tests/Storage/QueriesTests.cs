using Fleet.Contracts.V1;
using Fleet.Server.Api;
using Fleet.Server.Ingest;

namespace Fleet.Server.Tests.Storage;

public sealed class QueriesTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly TimeSpan Timeout = StorageHarness.Timeout;
    private static readonly DateTimeOffset Now = StorageHarness.Start;

    private async Task<(AgentRegistration Agent, List<Snapshot> Snapshots)> StoreSeriesAsync(string hostName, DateTimeOffset from, int count, TimeSpan every, int processes = 40)
    {
        var host = TestSnapshots.Host(hostName);
        var snapshots = Enumerable.Range(0, count)
            .Select(i => TestSnapshots.Realistic(host, (ulong)(i + 1), from + i * every, processes, seed: 7 * i + hostName.Length))
            .ToList();
        var agent = await harness.RegisterAsync(snapshots[0]);
        foreach (var s in snapshots)
        {
            Assert.Equal(StoreOutcome.Stored, await harness.Store.StoreSnapshotAsync(agent, s, CancellationToken.None).WaitAsync(Timeout));
        }
        return (agent, snapshots);
    }

    [Fact]
    public async Task ListHosts_ByLastSeen_SaysLiveStaleOrOffline()
    {
        try
        {
            var seen = new Dictionary<string, TimeSpan>
            {
                ["status-live"] = TimeSpan.FromSeconds(25),
                ["status-stale"] = TimeSpan.FromMinutes(10),
                ["status-offline"] = TimeSpan.FromMinutes(16),
            };
            foreach (var (name, ago) in seen)
            {
                harness.Clock.Now = Now - ago;
                await StoreSeriesAsync(name, Now - ago - TimeSpan.FromSeconds(2), 1, TimeSpan.Zero);
            }
            harness.Clock.Now = Now;

            var hosts = (await harness.Queries.ListHostsAsync(CancellationToken.None).WaitAsync(Timeout)).Where(h => h.Name.StartsWith("status-", StringComparison.Ordinal));

            Assert.Equal(
                [("status-live", "live", Now - seen["status-live"]), ("status-offline", "offline", Now - seen["status-offline"]), ("status-stale", "stale", Now - seen["status-stale"])],
                hosts.Select(h => (h.Name, h.Status, h.LastSeen!.Value)));
        }
        finally
        {
            harness.Clock.Now = Now;
        }
    }

    [Fact]
    public async Task ListHosts_FromTheLatestSnapshot_ShowsWorstServiceHeadroomAndHostFigures()
    {
        var (_, snapshots) = await StoreSeriesAsync("figures-host", Now.AddMinutes(-2), 3, TimeSpan.FromSeconds(10), processes: 300);
        var latest = snapshots[^1];

        var summary = Assert.Single(await harness.Queries.ListHostsAsync(CancellationToken.None).WaitAsync(Timeout), h => h.Name == "figures-host");

        var worst = latest.Services.Where(s => s.ProcessCount > s.UnreadableProcessCount)
            .OrderByDescending(s => s.WorstSoftLimitPercent).ThenByDescending(s => s.WorstOpenFds).First();
        Assert.Equal(
            new HostSummary("figures-host", "machine-figures-host", Now, "1.2.3", "live", worst.Name, (float)worst.WorstSoftLimitPercent,
                worst.WorstNofileSoft - worst.WorstOpenFds, (ulong)latest.Services.Sum(s => (long)s.Tcp.CloseWait) + latest.UnownedTcp.CloseWait,
                latest.System.FileHandlesAllocated, (ulong)long.MaxValue, latest.System.EphemeralPortsInUse, 60999 - 32768 + 1),
            summary);
    }

    [Fact]
    public async Task LatestSnapshot_OfAKnownHost_RoundTripsTheNewestSnapshotAndUnknownHostIsNull()
    {
        var (_, snapshots) = await StoreSeriesAsync("latest-host", Now.AddMinutes(-1), 3, TimeSpan.FromSeconds(10), processes: 300);

        var latest = await harness.Queries.LatestSnapshotAsync("latest-host", CancellationToken.None).WaitAsync(Timeout);
        var unknown = await harness.Queries.LatestSnapshotAsync("no-such-host", CancellationToken.None).WaitAsync(Timeout);

        // The latest snapshot keeps the processes that matter (top by fds and by % of limit, all with CLOSE_WAIT).
        Assert.Equal(Fleet.Server.Storage.Series.SnapshotFigures.LatestKept(snapshots[^1], new Fleet.Server.Storage.StorageOptions().TopProcesses), latest);
        Assert.Null(unknown);
    }

    [Fact]
    public async Task Series_OverAnHour_ComesFromRawSamplesWithTheMaximumPerStep()
    {
        // 30 snapshots 10 s apart from 11:00:00: five 1-minute steps of 6 snapshots, with an empty step before and after.
        var (_, snapshots) = await StoreSeriesAsync("series-raw", Now.AddHours(-1), 30, TimeSpan.FromSeconds(10));
        var from = Now.AddHours(-1).AddMinutes(-1);

        var service = await harness.Queries.SeriesAsync(new SeriesQuery("series-raw", "open_fds", "nginx", from, from.AddMinutes(7), TimeSpan.FromMinutes(1)), CancellationToken.None).WaitAsync(Timeout);
        var host = await harness.Queries.SeriesAsync(new SeriesQuery("series-raw", "open_fds", null, from, from.AddMinutes(7), TimeSpan.FromMinutes(1)), CancellationToken.None).WaitAsync(Timeout);
        var percent = await harness.Queries.SeriesAsync(new SeriesQuery("series-raw", "soft_limit_percent", null, from, from.AddMinutes(7), TimeSpan.FromMinutes(1)), CancellationToken.None).WaitAsync(Timeout);

        var minutes = snapshots.Chunk(6).ToList();
        Assert.Equal("raw", service!.Source);
        Assert.Equal(TimeSpan.FromMinutes(1), service.Step);
        Assert.Equal(
            [null, .. minutes.Select(m => (double?)m.Max(s => (double)s.Services.Single(x => x.Name == "nginx").OpenFds)), null],
            service.Points.Select(p => p.Value));
        Assert.Equal(Enumerable.Range(-1, 7).Select(i => Now.AddHours(-1).AddMinutes(i)), service.Points.Select(p => p.Time));
        Assert.Equal(
            [null, .. minutes.Select(m => (double?)m.Max(s => s.Services.Sum(x => (double)x.OpenFds))), null],
            host!.Points.Select(p => p.Value));
        Assert.Equal(
            [null, .. minutes.Select(m => (double?)m.Max(s => s.Services.Max(x => (float)x.WorstSoftLimitPercent))), null],
            percent!.Points.Select(p => p.Value));
    }

    [Fact]
    public async Task Series_OverDaysAndMonths_ComesFromTheMinuteAndHourRollups()
    {
        var (_, snapshots) = await StoreSeriesAsync("series-rollup", Now.AddHours(-2), 30, TimeSpan.FromSeconds(10));
        await harness.Rollups.RollUpMinutesAsync(CancellationToken.None).WaitAsync(Timeout);
        await harness.Rollups.RollUpHoursAsync(CancellationToken.None).WaitAsync(Timeout);
        double maxOpenFds = snapshots.Max(s => (double)s.Services.Single(x => x.Name == "api").OpenFds);
        double avgEstablished = snapshots.Average(s => s.Services.Sum(x => (double)x.Tcp.Established));
        double maxFileHandles = snapshots.Max(s => (double)s.System.FileHandlesAllocated);

        var days = await harness.Queries.SeriesAsync(new SeriesQuery("series-rollup", "open_fds", "api", Now.AddDays(-2), Now, TimeSpan.FromMinutes(10)), CancellationToken.None).WaitAsync(Timeout);
        var month = await harness.Queries.SeriesAsync(new SeriesQuery("series-rollup", "established_avg", null, Now.AddDays(-30), Now, TimeSpan.FromHours(6)), CancellationToken.None).WaitAsync(Timeout);
        var handles = await harness.Queries.SeriesAsync(new SeriesQuery("series-rollup", "file_handles", null, Now.AddDays(-3), Now, TimeSpan.FromSeconds(90)), CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal("1m", days!.Source);
        Assert.Equal(2 * 24 * 6, days.Points.Count);
        var tenMinutes = Assert.Single(days.Points, p => p.Value is not null);
        Assert.Equal(Now.AddHours(-2), tenMinutes.Time);
        Assert.Equal(maxOpenFds, tenMinutes.Value);

        Assert.Equal("1h", month!.Source);
        var point = Assert.Single(month.Points, p => p.Value is not null);
        Assert.Equal(Now.AddHours(-6), point.Time);
        Assert.Equal(avgEstablished, point.Value!.Value, 9);

        Assert.Equal("1m", handles!.Source);
        Assert.Equal(TimeSpan.FromMinutes(2), handles.Step);
        Assert.Equal(maxFileHandles, handles.Points.Max(p => p.Value));
    }

    [Fact]
    public async Task Series_OfAnUnknownMetric_ThrowsListingTheAllowedMetrics()
    {
        var query = new SeriesQuery("any", "open_files", null, Now.AddHours(-1), Now, TimeSpan.FromMinutes(1));

        var e = await Assert.ThrowsAsync<ArgumentException>(() => harness.Queries.SeriesAsync(query, CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains("unknown metric 'open_files'", e.Message, StringComparison.Ordinal);
        foreach (string metric in new[] { "open_fds", "soft_limit_percent", "close_wait", "established", "processes", "file_handles", "ephemeral_ports", "tcp_orphans", "conntrack", "time_wait" })
        {
            Assert.Contains(metric, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Series_OfAHostFigureForAService_Throws()
    {
        var query = new SeriesQuery("any", "conntrack", "nginx", Now.AddHours(-1), Now, TimeSpan.FromMinutes(1));

        await Assert.ThrowsAsync<ArgumentException>(() => harness.Queries.SeriesAsync(query, CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Series_OfAnUnknownHostOrService_IsNull()
    {
        await StoreSeriesAsync("series-known", Now.AddMinutes(-5), 1, TimeSpan.Zero);

        var host = await harness.Queries.SeriesAsync(new SeriesQuery("series-unknown", "open_fds", null, Now.AddHours(-1), Now, TimeSpan.FromMinutes(1)), CancellationToken.None).WaitAsync(Timeout);
        var service = await harness.Queries.SeriesAsync(new SeriesQuery("series-known", "open_fds", "no-such-service", Now.AddHours(-1), Now, TimeSpan.FromMinutes(1)), CancellationToken.None).WaitAsync(Timeout);

        Assert.Null(host);
        Assert.Null(service);
    }

    [Theory]
    [InlineData(1, 10, "raw")]
    [InlineData(6, 60, "raw")]
    [InlineData(7, 60, "1m")]
    [InlineData(7 * 24, 600, "1m")]
    [InlineData(7 * 24, 3600, "1h")]
    [InlineData(7 * 24 + 1, 60, "1h")]
    public void ChooseSource_ByRangeAndStep_PicksRawMinuteOrHour(int hours, int stepSeconds, string source)
    {
        Assert.Equal(source, Fleet.Server.Storage.Queries.PostgresFleetQueries.ChooseSource(TimeSpan.FromHours(hours), TimeSpan.FromSeconds(stepSeconds)).Source);
    }
}
