using Fleet.Contracts.V1;
using Fleet.Server.Ingest;

namespace Fleet.Server.Tests.Storage;

public sealed class RollupTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly TimeSpan Timeout = StorageHarness.Timeout;

    /// <summary>24 snapshots 10 s apart from 10:58:00 to 11:01:50, across an hour boundary, with varying figures.</summary>
    private static List<Snapshot> Snapshots(HostIdentity host) =>
        [.. Enumerable.Range(0, 24).Select(i => TestSnapshots.Realistic(host, (ulong)(i + 1), StorageHarness.Start.AddMinutes(-62).AddSeconds(10 * i), 40, seed: 100 + i))];

    private async Task StoreAsync(AgentRegistration agent, IEnumerable<Snapshot> snapshots)
    {
        foreach (var s in snapshots)
        {
            Assert.Equal(StoreOutcome.Stored, await harness.Store.StoreSnapshotAsync(agent, s, CancellationToken.None).WaitAsync(Timeout));
        }
    }

    private async Task RollUpAsync()
    {
        await harness.Rollups.RollUpMinutesAsync(CancellationToken.None).WaitAsync(Timeout);
        await harness.Rollups.RollUpHoursAsync(CancellationToken.None).WaitAsync(Timeout);
    }

    private static DateTime Bucket(Snapshot s, TimeSpan size)
    {
        var t = s.CollectedAt.ToDateTime();
        return new DateTime(t.Ticks - t.Ticks % size.Ticks, DateTimeKind.Utc);
    }

    private static List<object?[]> ExpectedServiceRollup(IEnumerable<Snapshot> snapshots, TimeSpan size) =>
        [.. snapshots
            .SelectMany(s => s.Services.Select(svc => (Bucket: Bucket(s, size), Service: svc)))
            .GroupBy(x => (x.Bucket, x.Service.Name))
            .OrderBy(g => g.Key.Bucket).ThenBy(g => g.Key.Name, StringComparer.Ordinal)
            .Select(g => new object?[]
            {
                g.Key.Bucket, g.Key.Name, g.Count(),
                g.Sum(x => (long)x.Service.OpenFds), g.Max(x => (int)x.Service.OpenFds),
                g.Max(x => (float)x.Service.WorstSoftLimitPercent), g.Max(x => (int)x.Service.Tcp.CloseWait),
                g.Sum(x => (long)x.Service.Tcp.Established), g.Max(x => (int)x.Service.Tcp.Established),
                g.Sum(x => (long)x.Service.ProcessCount), g.Max(x => (int)x.Service.ProcessCount),
            })];

    private static List<object?[]> ExpectedHostRollup(IEnumerable<Snapshot> snapshots, TimeSpan size) =>
        [.. snapshots.GroupBy(s => Bucket(s, size)).OrderBy(g => g.Key).Select(g => new object?[]
        {
            g.Key, g.Count(),
            g.Max(s => (long)s.System.FileHandlesAllocated), g.Max(s => (long)s.System.EphemeralPortsInUse),
            g.Max(s => (long)s.System.TcpOrphans), g.Max(s => (long)s.System.ConntrackCount), g.Max(s => (long)s.System.TcpTimeWait),
            g.Sum(s => s.Services.Sum(x => (long)x.OpenFds)), g.Max(s => s.Services.Sum(x => (long)x.OpenFds)),
            g.Max(s => s.Services.Where(x => x.ProcessCount > x.UnreadableProcessCount).Max(x => (float)x.WorstSoftLimitPercent)),
            g.Max(s => s.Services.Sum(x => (long)x.Tcp.CloseWait)),
            g.Sum(s => s.Services.Sum(x => (long)x.Tcp.Established)), g.Max(s => s.Services.Sum(x => (long)x.Tcp.Established)),
            g.Sum(s => s.Services.Sum(x => (long)x.ProcessCount)), g.Max(s => s.Services.Sum(x => (int)x.ProcessCount)),
        })];

    private Task<List<object?[]>> ServiceRollupAsync(string table, long hostId) => harness.RowsAsync($"""
        SELECT r.bucket, sv.name, r.samples, r.open_fds_sum, r.open_fds_max, r.soft_limit_percent_max, r.close_wait_max,
            r.established_sum, r.established_max, r.processes_sum, r.processes_max
        FROM {table} r JOIN services sv ON sv.id = r.service_id
        WHERE r.host_id = $1 ORDER BY r.bucket, sv.name COLLATE "C"
        """, (int)hostId);

    private Task<List<object?[]>> HostRollupAsync(string table, long hostId) => harness.RowsAsync($"""
        SELECT bucket, samples, file_handles_max, ephemeral_ports_max, tcp_orphans_max, conntrack_max, time_wait_max,
            open_fds_sum, open_fds_max, soft_limit_percent_max, close_wait_max, established_sum, established_max,
            processes_sum, processes_max
        FROM {table} WHERE host_id = $1 ORDER BY bucket
        """, (int)hostId);

    [Fact]
    public async Task RollUp_MinuteAndHourBuckets_EqualTheAggregatesOfTheRawSamples()
    {
        var host = TestSnapshots.Host("rollup-exact");
        var snapshots = Snapshots(host);
        var agent = await harness.RegisterAsync(snapshots[0]);
        await StoreAsync(agent, snapshots);

        await RollUpAsync();

        Assert.Equal(ExpectedServiceRollup(snapshots, TimeSpan.FromMinutes(1)), await ServiceRollupAsync("service_rollup_1m", agent.HostKey));
        Assert.Equal(ExpectedServiceRollup(snapshots, TimeSpan.FromHours(1)), await ServiceRollupAsync("service_rollup_1h", agent.HostKey));
        Assert.Equal(ExpectedHostRollup(snapshots, TimeSpan.FromMinutes(1)), await HostRollupAsync("host_rollup_1m", agent.HostKey));
        Assert.Equal(ExpectedHostRollup(snapshots, TimeSpan.FromHours(1)), await HostRollupAsync("host_rollup_1h", agent.HostKey));
        Assert.Equal(4 * 12, (await ServiceRollupAsync("service_rollup_1m", agent.HostKey)).Count);
    }

    [Fact]
    public async Task RollUp_AfterLateDataForBucketsAlreadyRolledUp_RecomputesThemExactly()
    {
        var host = TestSnapshots.Host("rollup-late");
        var snapshots = Snapshots(host);
        var onTime = snapshots.Where((_, i) => i % 3 != 1).ToList();
        var late = snapshots.Where((_, i) => i % 3 == 1).ToList();
        var agent = await harness.RegisterAsync(snapshots[0]);
        await StoreAsync(agent, onTime);
        await RollUpAsync();
        Assert.Equal(ExpectedServiceRollup(onTime, TimeSpan.FromMinutes(1)), await ServiceRollupAsync("service_rollup_1m", agent.HostKey));

        // Hours later, a spool (of an agent whose state was restored) replays the snapshots missing from those buckets.
        harness.Clock.Now = StorageHarness.Start.AddHours(3);
        try
        {
            var replaying = await harness.RegisterAsync(snapshots[0]);
            await StoreAsync(replaying, late);
            await RollUpAsync();
        }
        finally
        {
            harness.Clock.Now = StorageHarness.Start;
        }

        Assert.Equal(ExpectedServiceRollup(snapshots, TimeSpan.FromMinutes(1)), await ServiceRollupAsync("service_rollup_1m", agent.HostKey));
        Assert.Equal(ExpectedServiceRollup(snapshots, TimeSpan.FromHours(1)), await ServiceRollupAsync("service_rollup_1h", agent.HostKey));
        Assert.Equal(ExpectedHostRollup(snapshots, TimeSpan.FromMinutes(1)), await HostRollupAsync("host_rollup_1m", agent.HostKey));
        Assert.Equal(ExpectedHostRollup(snapshots, TimeSpan.FromHours(1)), await HostRollupAsync("host_rollup_1h", agent.HostKey));
    }

    [Fact]
    public async Task RollUp_OfTheSameBucketsAgain_LeavesTheSameRows()
    {
        var host = TestSnapshots.Host("rollup-again");
        var snapshots = Snapshots(host).Take(9).ToList();
        var agent = await harness.RegisterAsync(snapshots[0]);
        await StoreAsync(agent, snapshots);
        await RollUpAsync();
        var first = await ServiceRollupAsync("service_rollup_1m", agent.HostKey);

        await harness.ExecuteAsync($"""
            INSERT INTO rollup_queue (host_id, minute)
            SELECT DISTINCT host_id, date_trunc('minute', time) FROM host_samples WHERE host_id = {agent.HostKey}
            """);
        var again = await harness.Rollups.RollUpMinutesAsync(CancellationToken.None).WaitAsync(Timeout);
        var empty = await harness.Rollups.RollUpMinutesAsync(CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(2, again.Buckets);
        Assert.Equal(0, empty.Buckets);
        Assert.Equal(first, await ServiceRollupAsync("service_rollup_1m", agent.HostKey));
        Assert.Equal(ExpectedServiceRollup(snapshots, TimeSpan.FromMinutes(1)), first);
    }
}

/// <summary>
/// How PostgreSQL plans the rollup statements: a pass reads only the partitions of the days it rolls up, not every
/// day kept (the per-bucket conditions are join filters, which prune nothing on their own).
/// </summary>
public sealed class RollupPlanTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly TimeSpan Timeout = StorageHarness.Timeout;

    public static TheoryData<string, string> Statements => new()
    {
        { nameof(Fleet.Server.Storage.Rollups.RollupService.ServiceMinutesSql), "service_samples" },
        { nameof(Fleet.Server.Storage.Rollups.RollupService.HostMinutesSql), "host_samples" },
    };

    [Theory]
    [MemberData(nameof(Statements))]
    public async Task MinuteRollup_OfOneDaysBuckets_ReadsOnlyThatDaysPartition(string statement, string table)
    {
        var host = TestSnapshots.Host("plan-" + table);
        var today = StorageHarness.Start.AddMinutes(-30);
        AgentRegistration? agent = null;
        ulong sequence = 0;
        foreach (var day in new[] { -3, -2, -1, 0 })
        {
            var snapshot = TestSnapshots.Realistic(host, ++sequence, today.AddDays(day), 5, seed: 7);
            agent ??= await harness.RegisterAsync(snapshot);
            Assert.Equal(StoreOutcome.Stored, await harness.Store.StoreSnapshotAsync(agent, snapshot, CancellationToken.None).WaitAsync(Timeout));
        }
        var bucket = new DateTime(today.UtcDateTime.Ticks - today.UtcDateTime.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Utc);
        string sql = statement == nameof(Fleet.Server.Storage.Rollups.RollupService.ServiceMinutesSql)
            ? Fleet.Server.Storage.Rollups.RollupService.ServiceMinutesSql
            : Fleet.Server.Storage.Rollups.RollupService.HostMinutesSql;

        await using var conn = await harness.DataSource.OpenConnectionAsync();
        await using var explain = Fleet.Server.Storage.Rollups.RollupService.Command("EXPLAIN " + sql, [(int)agent!.HostKey], [bucket], (bucket, bucket.AddMinutes(1)));
        explain.Connection = conn;
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }
        string text = string.Join('\n', plan);

        string Partition(DateTimeOffset day) => $"{table}_p{day:yyyyMMdd}";
        Assert.Contains(Partition(today), text, StringComparison.Ordinal);
        foreach (var day in new[] { -3, -2, -1 })
        {
            Assert.DoesNotContain(Partition(today.AddDays(day)), text, StringComparison.Ordinal);
        }
    }
}
