using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection;

/// <summary>
/// A process with more than 2*threads+16 fds whose threads have not run (summed task schedstat and the
/// thread set unchanged) keeps its fd figures from the previous collection; TCP states are looked up afresh.
/// Records live across collections, so each test copies the figures it compares before collecting again.
/// </summary>
public sealed class IncrementalCollectionTests : IDisposable
{
    private readonly ProcTree _tree = new();

    public void Dispose() => _tree.Dispose();

    /// <summary>One thread, 20 pipes and one TCP socket: 21 fds, more than 2*1+16.</summary>
    private FakeProcess BusyProcess(int pid, TcpState state) =>
        _tree.Process(pid)
            .Stat(threads: 1, startTicks: 5000)
            .Thread(pid, 1_000_000)
            .Fds(0, 20, "pipe:[9]")
            .Fd(20, "socket:[1001]")
            .Tcp(ProcNet.Tcp(0, "10.0.0.1:40001", "10.1.2.3:5432", state, 1001));

    [Fact]
    public void Collect_Incremental_WithUnchangedSchedstat_KeepsFdCountsWithoutRereading()
    {
        var process = BusyProcess(100, TcpState.Established);
        var collector = _tree.NewCollector(incremental: true);
        var first = collector.Collect();
        uint firstRescanned = first.Stats.ProcessesRescanned;

        // The fd table changes behind the collector's back; the process "has not run".
        process.Fd(0, "anon_inode:[eventfd]").Fd(21, "pipe:[10]");
        var second = collector.Collect();

        Assert.Equal(1U, firstRescanned);
        Assert.Equal(0U, second.Stats.ProcessesRescanned);
        Assert.Equal(0UL, second.Stats.FdsRead);
        var p = Assert.Single(second.Processes);
        Assert.Equal(21UL, p.OpenFds);
        Assert.Equal(20UL, p.Fds[FdKind.Pipe]);
        Assert.Equal(0UL, p.Fds[FdKind.Eventfd]);
    }

    [Fact]
    public void Collect_Incremental_WithUnchangedSchedstat_StillLooksTcpStatesUpAfresh()
    {
        var process = BusyProcess(100, TcpState.Established);
        var collector = _tree.NewCollector(incremental: true);
        ulong established = Assert.Single(collector.Collect().Processes).Tcp[TcpState.Established];

        process.Tcp(ProcNet.Tcp(0, "10.0.0.1:40001", "10.1.2.3:5432", TcpState.CloseWait, 1001));
        var second = collector.Collect();

        Assert.Equal(1UL, established);
        Assert.Equal(0U, second.Stats.ProcessesRescanned);
        var p = Assert.Single(second.Processes);
        Assert.Equal(0UL, p.Tcp[TcpState.Established]);
        Assert.Equal(1UL, p.Tcp[TcpState.CloseWait]);
        Assert.Equal(new Dictionary<string, ulong> { ["10.1.2.3:5432"] = 1 }, p.CloseWaitRemotes.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value));
    }

    [Fact]
    public void Collect_Incremental_WhenSchedstatChanges_PicksUpChangedFdLinks()
    {
        var process = BusyProcess(100, TcpState.Established);
        var collector = _tree.NewCollector(incremental: true);
        collector.Collect();

        process.Fd(0, "anon_inode:[eventfd]").Fd(1, "anon_inode:[eventfd]").Fd(21, "pipe:[10]").Thread(100, 1_250_000);
        var second = collector.Collect();

        Assert.Equal(1U, second.Stats.ProcessesRescanned);
        var p = Assert.Single(second.Processes);
        Assert.Equal(22UL, p.OpenFds);
        Assert.Equal(19UL, p.Fds[FdKind.Pipe]);
        Assert.Equal(2UL, p.Fds[FdKind.Eventfd]);
    }

    [Fact]
    public void Collect_Incremental_WhenAThreadAppearsWithTheSameTotalRuntime_Rereads()
    {
        var process = BusyProcess(100, TcpState.Established);
        var collector = _tree.NewCollector(incremental: true);
        collector.Collect();

        // A new thread that has not run yet: the sum is unchanged, the thread set is not.
        process.Stat(threads: 2, startTicks: 5000).Thread(4242, 0).Fd(21, "anon_inode:[eventpoll]");
        var second = collector.Collect();

        Assert.Equal(1U, second.Stats.ProcessesRescanned);
        Assert.Equal(1UL, Assert.Single(second.Processes).Fds[FdKind.Eventpoll]);
    }

    [Fact]
    public void Collect_Incremental_WithFewFds_RereadsTheProcessEveryTime()
    {
        // 18 fds with one thread: not more than 2*1+16, cheaper to read again than to prove unchanged.
        var process = _tree.Process(100).Fds(0, 18, "pipe:[9]");
        var collector = _tree.NewCollector(incremental: true);
        collector.Collect();

        process.Fd(0, "anon_inode:[eventfd]");
        var second = collector.Collect();

        Assert.Equal(1U, second.Stats.ProcessesRescanned);
        Assert.Equal(1UL, Assert.Single(second.Processes).Fds[FdKind.Eventfd]);
    }

    [Fact]
    public void Collect_NotIncremental_RereadsEveryProcessEveryTime()
    {
        var process = BusyProcess(100, TcpState.Established);
        var collector = _tree.NewCollector(incremental: false);
        collector.Collect();

        process.Fd(0, "anon_inode:[eventfd]");
        var second = collector.Collect();

        Assert.Equal(1U, second.Stats.ProcessesRescanned);
        Assert.Equal(1UL, Assert.Single(second.Processes).Fds[FdKind.Eventfd]);
    }

    [Fact]
    public void Collect_Incremental_WhenThePidIsReusedWithAnotherStartTime_TreatsItAsANewProcess()
    {
        var process = BusyProcess(100, TcpState.Established);
        var collector = _tree.NewCollector(incremental: true);
        var firstRecord = Assert.Single(collector.Collect().Processes);
        ulong firstStart = firstRecord.StartTicks;

        // Same pid, same schedstat figures, another process: its own fds, its own command line.
        process.Stat(comm: "other", threads: 1, startTicks: 9000)
            .Cmdline("other\0"u8.ToArray())
            .Fds(0, 20, "anon_inode:[eventfd]");
        var second = collector.Collect();

        Assert.Equal(5000UL, firstStart);
        Assert.Equal(1U, second.Stats.ProcessesRescanned);
        var p = Assert.Single(second.Processes);
        Assert.NotSame(firstRecord, p);
        Assert.Equal(9000UL, p.StartTicks);
        Assert.Equal("other", p.Comm);
        Assert.Equal("other", p.Cmdline);
        Assert.Equal(20UL, p.Fds[FdKind.Eventfd]);
        Assert.Equal(0UL, p.Fds[FdKind.Pipe]);
    }

    [Fact]
    public void Collect_Incremental_WhenAProcessIsGone_ForgetsIt()
    {
        var process = BusyProcess(100, TcpState.Established);
        _tree.Process(101);
        var collector = _tree.NewCollector(incremental: true);
        Assert.Equal(2, collector.Collect().Processes.Count);

        Directory.Delete(process.Dir, recursive: true);
        var second = collector.Collect();

        Assert.Equal(101, Assert.Single(second.Processes).Pid);
        Assert.Equal(0U, second.Stats.ProcessesVanished);
    }
}
