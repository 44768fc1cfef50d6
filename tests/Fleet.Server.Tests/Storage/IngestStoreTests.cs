using System.Net;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Fleet.Server.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Fleet.Server.Tests.Storage;

public sealed class IngestStoreTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly TimeSpan Timeout = StorageHarness.Timeout;
    private static readonly DateTimeOffset CollectedAt = StorageHarness.Start.AddMinutes(-3).AddMilliseconds(123);

    private static string NewHostName() => "host-" + Guid.NewGuid().ToString("N")[..12];

    private async Task<(AgentRegistration Agent, Snapshot Snapshot)> StoredAsync(ulong sequence = 1, int processes = 300)
    {
        var snapshot = TestSnapshots.Realistic(TestSnapshots.Host(NewHostName()), sequence, CollectedAt, processes);
        var agent = await harness.RegisterAsync(snapshot);
        Assert.Equal(StoreOutcome.Stored, await harness.Store.StoreSnapshotAsync(agent, snapshot, CancellationToken.None).WaitAsync(Timeout));
        return (agent, snapshot);
    }

    private static int I(ulong v) => checked((int)v);

    private static object?[] Tcp(TcpStates t) =>
        [I(t.Established), I(t.SynSent), I(t.SynRecv), I(t.FinWait1), I(t.FinWait2), I(t.TimeWait), I(t.Close), I(t.CloseWait), I(t.LastAck), I(t.Listen), I(t.Closing), I(t.NewSynRecv)];

    [Fact]
    public async Task StoreSnapshot_RealisticSnapshot_StoresEveryServiceFigureExactly()
    {
        var (agent, snapshot) = await StoredAsync();

        var rows = await harness.RowsAsync("""
            SELECT s.time, sv.name, sv.source, s.process_count, s.unreadable_count, s.open_fds,
                s.fd_regular_file, s.fd_directory, s.fd_pipe, s.fd_fifo, s.fd_socket_tcp, s.fd_socket_udp, s.fd_socket_unix,
                s.fd_socket_netlink, s.fd_socket_other, s.fd_char_device, s.fd_block_device, s.fd_eventpoll, s.fd_eventfd,
                s.fd_timerfd, s.fd_signalfd, s.fd_inotify, s.fd_anon_inode_other, s.fd_memfd, s.fd_other,
                s.worst_pid, s.worst_open_fds, s.worst_nofile_soft, s.worst_nofile_hard, s.worst_soft_limit_percent,
                s.tcp_established, s.tcp_syn_sent, s.tcp_syn_recv, s.tcp_fin_wait1, s.tcp_fin_wait2, s.tcp_time_wait,
                s.tcp_close, s.tcp_close_wait, s.tcp_last_ack, s.tcp_listen, s.tcp_closing, s.tcp_new_syn_recv
            FROM service_samples s JOIN services sv ON sv.id = s.service_id
            WHERE s.host_id = $1 ORDER BY sv.name
            """, (int)agent.HostKey);

        var expected = snapshot.Services.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => new object?[]
        {
            CollectedAt.UtcDateTime, s.Name, (short)s.Source, (int)s.ProcessCount, (int)s.UnreadableProcessCount, I(s.OpenFds),
            I(s.Fds.RegularFile), I(s.Fds.Directory), I(s.Fds.Pipe), I(s.Fds.Fifo), I(s.Fds.SocketTcp), I(s.Fds.SocketUdp), I(s.Fds.SocketUnix),
            I(s.Fds.SocketNetlink), I(s.Fds.SocketOther), I(s.Fds.CharDevice), I(s.Fds.BlockDevice), I(s.Fds.Eventpoll), I(s.Fds.Eventfd),
            I(s.Fds.Timerfd), I(s.Fds.Signalfd), I(s.Fds.Inotify), I(s.Fds.AnonInodeOther), I(s.Fds.Memfd), I(s.Fds.Other),
            s.WorstPid, I(s.WorstOpenFds), I(s.WorstNofileSoft), s.WorstNofileHard == ulong.MaxValue ? -1 : I(s.WorstNofileHard),
            (float)s.WorstSoftLimitPercent,
        }.Concat(Tcp(s.Tcp)).ToArray());
        Assert.Equal(12, rows.Count);
        Assert.Equal(expected, rows);
    }

    [Fact]
    public async Task StoreSnapshot_RealisticSnapshot_KeepsTopProcessesByFdsAndPercentAndEveryProcessWithCloseWait()
    {
        var (agent, snapshot) = await StoredAsync();

        var rows = await harness.RowsAsync("""
            SELECT p.pid, p.start_ticks, sv.name, p.comm, p.open_fds, p.nofile_soft, p.nofile_hard, p.soft_limit_percent,
                p.fd_regular_file, p.fd_directory, p.fd_pipe, p.fd_socket_tcp, p.fd_socket_udp, p.fd_socket_unix,
                p.fd_socket_other, p.fd_anon_inode, p.fd_other,
                p.tcp_established, p.tcp_syn_sent, p.tcp_syn_recv, p.tcp_fin_wait1, p.tcp_fin_wait2, p.tcp_time_wait,
                p.tcp_close, p.tcp_close_wait, p.tcp_last_ack, p.tcp_listen, p.tcp_closing, p.tcp_new_syn_recv
            FROM process_samples p JOIN services sv ON sv.id = p.service_id
            WHERE p.host_id = $1 AND p.time = $2 ORDER BY p.pid
            """, (int)agent.HostKey, CollectedAt.UtcDateTime);

        var readable = snapshot.Processes.Where(p => p.FdsReadable).ToList();
        var byFds = readable.OrderByDescending(p => p.OpenFds).ThenBy(p => p.Pid).Take(20);
        var byPercent = readable.OrderByDescending(TestSnapshots.Percent).ThenByDescending(p => p.OpenFds).ThenBy(p => p.Pid).Take(20);
        var closeWait = readable.Where(p => p.Tcp.CloseWait > 0);
        var kept = byFds.Concat(byPercent).Concat(closeWait).DistinctBy(p => p.Pid).OrderBy(p => p.Pid).ToList();
        var expected = kept.Select(p => new object?[]
        {
            p.Pid, (long)p.StartTimeTicks, p.Service, p.Comm, I(p.OpenFds), I(p.NofileSoft), p.NofileHard == ulong.MaxValue ? -1 : I(p.NofileHard),
            (float)TestSnapshots.Percent(p),
            I(p.Fds.RegularFile), I(p.Fds.Directory), I(p.Fds.Pipe + p.Fds.Fifo), I(p.Fds.SocketTcp), I(p.Fds.SocketUdp), I(p.Fds.SocketUnix),
            I(p.Fds.SocketNetlink + p.Fds.SocketOther),
            I(p.Fds.Eventpoll + p.Fds.Eventfd + p.Fds.Timerfd + p.Fds.Signalfd + p.Fds.Inotify + p.Fds.AnonInodeOther),
            I(p.Fds.CharDevice + p.Fds.BlockDevice + p.Fds.Memfd + p.Fds.Other),
        }.Concat(Tcp(p.Tcp)).ToArray()).ToList();
        Assert.True(closeWait.Count() >= 15, "the snapshot has processes with CLOSE_WAIT");
        Assert.True(expected.Count > 40, "processes with CLOSE_WAIT beyond the two top-20 lists are kept");
        Assert.Equal(expected, rows);
    }

    [Fact]
    public async Task StoreSnapshot_RealisticSnapshot_StoresCloseWaitByRemoteEndpointPerProcess()
    {
        var (agent, snapshot) = await StoredAsync();

        var rows = await harness.RowsAsync("""
            SELECT c.pid, sv.name, c.remote, c.port, c.count
            FROM close_wait_samples c JOIN services sv ON sv.id = c.service_id
            WHERE c.host_id = $1 ORDER BY c.pid, c.port
            """, (int)agent.HostKey);

        var expected = snapshot.Processes
            .SelectMany(p => p.CloseWaitRemotes.Select(r => new object?[] { p.Pid, p.Service, IPAddress.Parse(r.Address), (int)r.Port, I(r.Count) }))
            .OrderBy(r => (int)r[0]!).ThenBy(r => (int)r[3]!).ToList();
        Assert.Contains(expected, r => ((IPAddress)r[2]!).AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);
        Assert.Equal(expected, rows);
    }

    [Fact]
    public async Task StoreSnapshot_RealisticSnapshot_StoresEverySystemFigureTotalsAndAgentCost()
    {
        var (agent, snapshot) = await StoredAsync();

        var row = Assert.Single(await harness.RowsAsync("""
            SELECT h.time, h.file_handles_allocated, h.file_handles_max, h.nr_open, h.ephemeral_port_low, h.ephemeral_port_high,
                h.ephemeral_ports_in_use, h.top_ephemeral_address, h.top_ephemeral_port, h.top_ephemeral_count,
                h.tcp_max_orphans, h.tcp_orphans, h.tcp_time_wait, h.tcp_fin_timeout_seconds, h.tcp_tw_reuse,
                h.conntrack_present, h.conntrack_count, h.conntrack_max, h.inotify_max_user_instances, h.inotify_max_user_watches,
                h.inotify_uids, h.inotify_instances,
                h.unowned_established, h.unowned_syn_sent, h.unowned_syn_recv, h.unowned_fin_wait1, h.unowned_fin_wait2,
                h.unowned_time_wait, h.unowned_close, h.unowned_close_wait, h.unowned_last_ack, h.unowned_listen,
                h.unowned_closing, h.unowned_new_syn_recv,
                h.processes, h.unreadable_processes, h.open_fds, h.close_wait, h.established, ws.name,
                h.worst_soft_limit_percent, h.worst_headroom_fds, h.network_namespaces,
                h.collection_duration_us, h.agent_cpu_us, h.agent_wall_us, h.agent_resident_bytes, h.agent_processes_seen,
                h.agent_processes_unreadable, h.agent_processes_vanished, h.agent_malformed_lines, h.agent_processes_rescanned,
                h.agent_fds_read
            FROM host_samples h LEFT JOIN services ws ON ws.id = h.worst_service_id
            WHERE h.host_id = $1
            """, (int)agent.HostKey));

        var sys = snapshot.System;
        var worst = snapshot.Services.Where(s => s.ProcessCount > s.UnreadableProcessCount)
            .OrderByDescending(s => s.WorstSoftLimitPercent).ThenByDescending(s => s.WorstOpenFds).First();
        var cost = snapshot.AgentCost;
        object?[] expected =
        [
            CollectedAt.UtcDateTime, (long)sys.FileHandlesAllocated, long.MaxValue, 1_048_576L, 32768, 60999,
            (long)sys.EphemeralPortsInUse, IPAddress.Parse("10.1.2.3"), 5432, (long)sys.TopEphemeralRemote.Count,
            65536L, (long)sys.TcpOrphans, (long)sys.TcpTimeWait, 60, (short)2,
            true, (long)sys.ConntrackCount, 262_144L, 128L, 1_048_576L,
            new long[] { 0, 4_294_967_294 }, new long[] { 40, 3 },
            .. Tcp(snapshot.UnownedTcp),
            snapshot.Services.Sum(s => (int)s.ProcessCount), snapshot.Services.Sum(s => (int)s.UnreadableProcessCount),
            snapshot.Services.Sum(s => (long)s.OpenFds), snapshot.Services.Sum(s => (long)s.Tcp.CloseWait),
            snapshot.Services.Sum(s => (long)s.Tcp.Established), worst.Name,
            (float)worst.WorstSoftLimitPercent, (long)(worst.WorstNofileSoft - worst.WorstOpenFds), 1,
            42_500L, 31_250L, 42_500L, 31_457_280L, 300,
            (int)cost.ProcessesUnreadable, 2, 1, 17,
            12_345L,
        ];
        Assert.Equal(expected, row);
        Assert.Equal(300, (int)row[34]!);
    }

    [Fact]
    public async Task StoreSnapshot_RealisticSnapshot_RecordsLatestSnapshotAndCommittedSequence()
    {
        var (agent, snapshot) = await StoredAsync(sequence: 41);

        var host = Assert.Single(await harness.RowsAsync("SELECT latest_snapshot, latest_collected_at FROM hosts WHERE id = $1", (int)agent.HostKey));
        Assert.Equal(Fleet.Server.Storage.Series.SnapshotFigures.LatestKept(snapshot, new Fleet.Server.Storage.StorageOptions().TopProcesses), Snapshot.Parser.ParseFrom((byte[])host[0]!));
        Assert.Equal(CollectedAt.UtcDateTime, host[1]);
        Assert.Equal(41L, await harness.ScalarAsync<long>("SELECT last_committed_sequence FROM agents WHERE id = $1", agent.AgentKey));
        var again = await harness.Store.RegisterAgentAsync(
            new AgentHello(agent.AgentId, snapshot.Host, "1.2.4", 0, null), CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(41UL, again.LastCommittedSequence);
        Assert.Equal(agent.AgentKey, again.AgentKey);
    }

    [Fact]
    public async Task StoreSnapshot_SameSequenceTwice_ReturnsDuplicateAndKeepsOneCopy()
    {
        var (agent, snapshot) = await StoredAsync(sequence: 7);

        var outcome = await harness.Store.StoreSnapshotAsync(agent, snapshot, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(StoreOutcome.Duplicate, outcome);
        Assert.Equal(1L, await harness.ScalarAsync<long>("SELECT count(*) FROM host_samples WHERE host_id = $1", (int)agent.HostKey));
        Assert.Equal(12L, await harness.ScalarAsync<long>("SELECT count(*) FROM service_samples WHERE host_id = $1", (int)agent.HostKey));
        Assert.Equal(1L, await harness.ScalarAsync<long>("SELECT count(DISTINCT time) FROM process_samples WHERE host_id = $1", (int)agent.HostKey));
    }

    [Fact]
    public async Task StoreSnapshot_SameSequenceFromTwoTasksAtOnce_StoresEachSequenceExactlyOnce()
    {
        var host = TestSnapshots.Host(NewHostName());
        var agent = await harness.RegisterAsync(TestSnapshots.Realistic(host, 1, CollectedAt, 10));
        const int Sequences = 20;
        var outcomes = new List<StoreOutcome[]>();

        for (ulong seq = 1; seq <= Sequences; seq++)
        {
            var snapshot = TestSnapshots.Realistic(host, seq, CollectedAt.AddSeconds(seq * 10), 60, seed: (int)seq);
            using var start = new ManualResetEventSlim();
            var tasks = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                start.Wait(Timeout);
                return await harness.Store.StoreSnapshotAsync(agent, snapshot, CancellationToken.None);
            })).ToArray();
            start.Set();
            outcomes.Add(await Task.WhenAll(tasks).WaitAsync(Timeout));
        }

        Assert.All(outcomes, pair => Assert.Equal([StoreOutcome.Stored, StoreOutcome.Duplicate], pair.Order()));
        Assert.Equal((long)Sequences, await harness.ScalarAsync<long>("SELECT count(*) FROM host_samples WHERE host_id = $1", (int)agent.HostKey));
        Assert.Equal(Sequences * 12L, await harness.ScalarAsync<long>("SELECT count(*) FROM service_samples WHERE host_id = $1", (int)agent.HostKey));
        Assert.Equal(12L, await harness.ScalarAsync<long>("SELECT count(*) FROM services WHERE host_id = $1", (int)agent.HostKey));
    }

    [Fact]
    public async Task StoreSnapshot_AfterGapInSequence_IsStoredAndOlderSequenceIsDuplicate()
    {
        var (agent, snapshot) = await StoredAsync(sequence: 3);
        var later = TestSnapshots.Realistic(snapshot.Host, 9, CollectedAt.AddSeconds(60), 50);
        var earlier = TestSnapshots.Realistic(snapshot.Host, 5, CollectedAt.AddSeconds(30), 50);

        Assert.Equal(StoreOutcome.Stored, await harness.Store.StoreSnapshotAsync(agent, later, CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(StoreOutcome.Duplicate, await harness.Store.StoreSnapshotAsync(agent, earlier, CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(9L, await harness.ScalarAsync<long>("SELECT last_committed_sequence FROM agents WHERE id = $1", agent.AgentKey));
        Assert.Equal(2L, await harness.ScalarAsync<long>("SELECT count(*) FROM host_samples WHERE host_id = $1", (int)agent.HostKey));
    }

    [Fact]
    public async Task StoreSnapshot_FailingInTheLastCopy_StoresNothingAndTheReplayIsStored()
    {
        var snapshot = TestSnapshots.Realistic(TestSnapshots.Host(NewHostName()), 1, CollectedAt);
        var agent = await harness.RegisterAsync(snapshot);
        var bad = snapshot.Clone();
        bad.Processes.Last(p => p.CloseWaitRemotes.Count > 0).CloseWaitRemotes[^1].Address = "not-an-address";

        var e = await Assert.ThrowsAsync<ArgumentException>(() => harness.Store.StoreSnapshotAsync(agent, bad, CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains("close_wait_remotes", e.Message, StringComparison.Ordinal);
        await AssertNothingStoredAsync(agent);
        Assert.Equal(StoreOutcome.Stored, await harness.Store.StoreSnapshotAsync(agent, snapshot, CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(12L, await harness.ScalarAsync<long>("SELECT count(*) FROM service_samples WHERE host_id = $1", (int)agent.HostKey));
    }

    [Fact]
    public async Task StoreSnapshot_ViolatingAConstraint_StoresNothing()
    {
        var snapshot = TestSnapshots.Realistic(TestSnapshots.Host(NewHostName()), 1, CollectedAt);
        var agent = await harness.RegisterAsync(snapshot);
        snapshot.Processes.Last(p => p.CloseWaitRemotes.Count > 0).CloseWaitRemotes[0].Port = 70_000;

        var e = await Assert.ThrowsAsync<PostgresException>(() => harness.Store.StoreSnapshotAsync(agent, snapshot, CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(PostgresErrorCodes.CheckViolation, e.SqlState);
        await AssertNothingStoredAsync(agent);
    }

    [Fact]
    public async Task StoreSnapshot_WithClosedDataSource_ThrowsAndStoresNothing()
    {
        var snapshot = TestSnapshots.Realistic(TestSnapshots.Host(NewHostName()), 1, CollectedAt);
        var agent = await harness.RegisterAsync(snapshot);
        var services = StorageHarness.BuildServices(harness.Database.ConnectionString, harness.Clock);
        var store = services.GetRequiredService<IIngestStore>();
        await services.GetRequiredService<NpgsqlDataSource>().DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.StoreSnapshotAsync(agent, snapshot, CancellationToken.None).WaitAsync(Timeout));

        await AssertNothingStoredAsync(agent);
        await services.DisposeAsync();
    }

    private async Task AssertNothingStoredAsync(AgentRegistration agent)
    {
        foreach (string table in new[] { "service_samples", "process_samples", "close_wait_samples", "host_samples" })
        {
            Assert.Equal(0L, await harness.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE host_id = $1", (int)agent.HostKey));
        }
        Assert.Equal(0L, await harness.ScalarAsync<long>("SELECT last_committed_sequence FROM agents WHERE id = $1", agent.AgentKey));
        Assert.Equal(0L, await harness.ScalarAsync<long>("SELECT count(*) FROM hosts WHERE id = $1 AND latest_snapshot IS NOT NULL", (int)agent.HostKey));
        Assert.Equal(0L, await harness.ScalarAsync<long>("SELECT count(*) FROM rollup_queue WHERE host_id = $1", (int)agent.HostKey));
    }

    [Fact]
    public async Task StoreSnapshot_OlderThanTheLatestFromAnotherAgent_KeepsTheNewerLatestSnapshot()
    {
        var (agent, snapshot) = await StoredAsync(sequence: 1);
        var otherAgent = await harness.RegisterAsync(snapshot);
        var older = TestSnapshots.Realistic(snapshot.Host, 1, CollectedAt.AddMinutes(-1), 20);

        Assert.Equal(StoreOutcome.Stored, await harness.Store.StoreSnapshotAsync(otherAgent, older, CancellationToken.None).WaitAsync(Timeout));

        var latest = await harness.ScalarAsync<byte[]>("SELECT latest_snapshot FROM hosts WHERE id = $1", (int)agent.HostKey);
        Assert.Equal(Fleet.Server.Storage.Series.SnapshotFigures.LatestKept(snapshot, new Fleet.Server.Storage.StorageOptions().TopProcesses), Snapshot.Parser.ParseFrom(latest));
        Assert.Equal(2L, await harness.ScalarAsync<long>("SELECT count(*) FROM host_samples WHERE host_id = $1", (int)agent.HostKey));
    }

    [Fact]
    public async Task StoreSnapshot_ForAPastDayWithoutPartition_MakesThePartitionAndStores()
    {
        var fiveDaysAgo = StorageHarness.Start.AddDays(-5);
        var snapshot = TestSnapshots.Realistic(TestSnapshots.Host(NewHostName()), 1, fiveDaysAgo, 30);
        var agent = await harness.RegisterAsync(snapshot);

        Assert.Equal(StoreOutcome.Stored, await harness.Store.StoreSnapshotAsync(agent, snapshot, CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(1L, await harness.ScalarAsync<long>("SELECT count(*) FROM host_samples_p20300310 WHERE host_id = $1", (int)agent.HostKey));
        Assert.Equal(1L, await harness.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname = 'service_rollup_1m_p20300310'"));
    }

    [Fact]
    public async Task StoreSnapshot_PastRawRetention_AdvancesTheSequenceWithoutSeries()
    {
        var longAgo = StorageHarness.Start.AddDays(-20);
        var snapshot = TestSnapshots.Realistic(TestSnapshots.Host(NewHostName()), 4, longAgo, 30);
        var agent = await harness.RegisterAsync(snapshot);

        Assert.Equal(StoreOutcome.Stored, await harness.Store.StoreSnapshotAsync(agent, snapshot, CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(4L, await harness.ScalarAsync<long>("SELECT last_committed_sequence FROM agents WHERE id = $1", agent.AgentKey));
        Assert.Equal(0L, await harness.ScalarAsync<long>("SELECT count(*) FROM host_samples WHERE host_id = $1", (int)agent.HostKey));
        Assert.Equal(0L, await harness.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname = 'host_samples_p20300223'"));
    }

    [Fact]
    public async Task FindToken_ByItsHash_ReturnsTheTokenAndNullForAnother()
    {
        byte[] hash = System.Security.Cryptography.SHA256.HashData("secret-token"u8);
        var added = await harness.Store.AddTokenAsync("ci runners", hash, CancellationToken.None).WaitAsync(Timeout);

        var found = await harness.Store.FindTokenAsync(hash, CancellationToken.None).WaitAsync(Timeout);
        var missing = await harness.Store.FindTokenAsync(System.Security.Cryptography.SHA256.HashData("other"u8), CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(new EnrollmentToken(added.Id, "ci runners", StorageHarness.Start, false), found);
        Assert.Null(missing);
    }

    [Fact]
    public async Task ListTokens_AfterAddingTwo_ListsThemOldestFirstWithoutHashes()
    {
        var catalog = harness.Services.GetRequiredService<IEnrollmentTokenCatalog>();
        var first = await harness.Store.AddTokenAsync("list-a", System.Security.Cryptography.SHA256.HashData("list-a"u8), CancellationToken.None).WaitAsync(Timeout);
        var second = await harness.Store.AddTokenAsync("list-b", System.Security.Cryptography.SHA256.HashData("list-b"u8), CancellationToken.None).WaitAsync(Timeout);

        var tokens = await catalog.ListTokensAsync(CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal([first, second], tokens.Where(t => t.Name.StartsWith("list-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task StoreSnapshot_OfUnregisteredAgent_Throws()
    {
        var snapshot = TestSnapshots.Realistic(TestSnapshots.Host(NewHostName()), 1, CollectedAt, 5);
        var ghost = new AgentRegistration(long.MaxValue, 1, "ghost", "ghost", 0);

        await Assert.ThrowsAsync<InvalidOperationException>(() => harness.Store.StoreSnapshotAsync(ghost, snapshot, CancellationToken.None).WaitAsync(Timeout));
    }
}
