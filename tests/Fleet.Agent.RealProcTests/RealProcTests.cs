using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection.RealProc;

/// <summary>No other test may open or close fds of this process while one of these runs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealProcSequence
{
    public const string Name = "real /proc of the test process";
}

/// <summary>The collector against the real /proc, looking at the test process itself.</summary>
[Collection(RealProcSequence.Name)]
public sealed class RealProcTests : IDisposable
{
    private static readonly TimeSpan Timeout = LoopbackSockets.Timeout;
    private readonly LoopbackSockets _sockets = new();
    private readonly List<IDisposable> _owned = [];
    private readonly List<int> _rawFds = [];
    private readonly TestLibC.RLimit _nofile = TestLibC.GetNofile();
    private readonly string _scratch = Directory.CreateTempSubdirectory("fleet-realproc-").FullName;

    public RealProcTests()
    {
        // Finalizers of other tests' leftovers must not close fds while these tests count them.
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    public void Dispose()
    {
        TestLibC.SetNofile(_nofile);
        _sockets.Dispose();
        foreach (var d in _owned)
        {
            d.Dispose();
        }
        foreach (int fd in _rawFds)
        {
            _ = TestLibC.Close(fd);
        }
        Directory.Delete(_scratch, recursive: true);
    }

    private static HostCollector NewCollector(bool incremental = true) =>
        new(new CollectorOptions { ProcRoot = "/proc", DockerRoot = "", Incremental = incremental });

    private static ProcessRecord Self(HostCollection c) => Assert.Single(c.Processes, p => p.Pid == Environment.ProcessId);

    private static string Key(Socket listener)
    {
        var ep = (IPEndPoint)listener.LocalEndPoint!;
        return ep.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ep.Address}]:{ep.Port}" : $"{ep.Address}:{ep.Port}";
    }

    [Fact]
    public void Collect_OwnProcess_MatchesAnIndependentCountOfItsFdsSocketsAndLimits()
    {
        var a = _sockets.Listen(IPAddress.Loopback);
        var b = _sockets.Listen(IPAddress.IPv6Loopback);
        // CLOSE_WAIT: three toward A (one of them from an IPv6 socket, IPv4-mapped), two toward B.
        _sockets.CloseWait(a);
        _sockets.CloseWait(a);
        _sockets.CloseWait(a, dualMode: true);
        _sockets.CloseWait(b);
        _sockets.CloseWait(b);
        // ESTABLISHED: two pairs, both ends ours.
        _sockets.Connect(a);
        _sockets.Connect(b);
        // A TCP socket in no table yet, a UDP and a Unix socket.
        Own(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        var udp = Own(new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Own(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified));
        const int MySockets = 2 + 5 + 4 + 1;
        for (int i = 0; i < 2; i++)
        {
            var (read, write) = TestLibC.Pipe();
            _rawFds.Add(read);
            _rawFds.Add(write);
        }
        for (int i = 0; i < 3; i++)
        {
            _rawFds.Add(TestLibC.Check(TestLibC.EventFd(0, TestLibC.EFD_CLOEXEC), "eventfd"));
        }
        for (int i = 0; i < 2; i++)
        {
            Own(new FileStream(Path.Combine(_scratch, $"held-{i}.log"), FileMode.Create, FileAccess.ReadWrite, FileShare.None));
        }
        TestLibC.SetNofile(new TestLibC.RLimit { Soft = 3000, Hard = _nofile.Hard });
        var collector = NewCollector();
        // Once before measuring: the first collection loads and compiles code, which may open files.
        collector.Collect();

        var before = FdCensus.Take();
        var c = collector.Collect();
        var after = FdCensus.Take();

        Assert.True(before.SameAs(after), $"fds changed during the collection:\nbefore:\n{before}\nafter:\n{after}");
        var self = Self(c);
        Assert.True(self.FdsReadable);
        // While the collector lists its own fd table it holds /proc, /proc/PID and /proc/PID/fd open;
        // the census holds /proc/PID/fd open while it lists: two directories more for the collector.
        foreach (var kind in Enum.GetValues<FdKind>())
        {
            ulong expected = before[kind] + (kind == FdKind.Directory ? 2UL : 0UL);
            Assert.True(expected == self.Fds[kind], $"{kind}: census {expected}, collector {self.Fds[kind]}\n{before}");
        }
        Assert.Equal(before.Total + 2, self.OpenFds);

        Assert.Equal(new Dictionary<string, ulong> { [Key(a)] = 3, [Key(b)] = 2 },
            self.CloseWaitRemotes.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value));
        Assert.Equal(5UL, self.Tcp[TcpState.CloseWait]);
        Assert.Equal(before[FdKind.SocketTcp], self.Tcp.Total);
        // Sockets of the test host itself (its connection to the runner) may add to these, never take away.
        ulong others = before[FdKind.SocketTcp] - MySockets;
        Assert.InRange(self.Tcp[TcpState.Established], 4UL, 4UL + others);
        Assert.InRange(self.Tcp[TcpState.Listen], 2UL, 2UL + others);
        Assert.InRange(self.Tcp[TcpState.Close], 1UL, 1UL + others);
        Assert.True(self.Fds[FdKind.Pipe] >= 4 && self.Fds[FdKind.Eventfd] >= 3 && self.Fds[FdKind.RegularFile] >= 2);
        Assert.True(self.Fds[FdKind.SocketUdp] >= 1 && self.Fds[FdKind.SocketUnix] >= 1);

        // The collector's own namespace is dumped over netlink once, and holds at least the sockets made here.
        var ns = Assert.Single(c.Namespaces, n => n.Inode == self.NetNamespace);
        Assert.Equal(Environment.ProcessId, ns.ReaderPid);
        Assert.True(ns.TcpSockets >= MySockets - 1 + 5, $"{ns.TcpSockets} sockets in the namespace");

        Assert.Equal(3000UL, self.NofileSoft);
        Assert.Equal(_nofile.Hard, self.NofileHard);
        Assert.Equal(TestLibC.GetEuid(), self.Uid);
        Assert.True(self.Threads >= 1);

        // The closed ends are orphans no process holds, on their way through FIN_WAIT.
        Assert.True(c.UnownedTcp[TcpState.FinWait1] + c.UnownedTcp[TcpState.FinWait2] + c.UnownedTcp[TcpState.TimeWait] >= 5,
            "the five closed peers are missing from the unowned sockets");
    }

    [Fact]
    public void Collect_WhenAnFdNumberIsReusedBetweenCollections_FollowsTheNewSocket()
    {
        var listener = _sockets.Listen(IPAddress.Loopback);
        var closeWait = _sockets.CloseWait(listener);
        int reused = (int)closeWait.Handle;
        var collector = NewCollector(incremental: true);
        var first = Self(collector.Collect());
        ulong closeWaitBefore = first.Tcp[TcpState.CloseWait];
        ulong establishedBefore = first.Tcp[TcpState.Established];
        ulong tcpFdsBefore = first.Fds[FdKind.SocketTcp];
        ulong openBefore = first.OpenFds;
        var remotesBefore = first.CloseWaitRemotes.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value);

        // The CLOSE_WAIT socket at fd N is closed and an ESTABLISHED one takes fd N: dup2 closes N and
        // puts the new socket there; then the new socket's own fd is closed. One fd more in all (the
        // accepted side).
        var (established, _) = _sockets.Connect(listener);
        Assert.Equal(reused, TestLibC.Dup2((int)established.Handle, reused));
        _sockets.Close(established);
        var second = Self(collector.Collect());

        Assert.Equal(new Dictionary<string, ulong> { [Key(listener)] = 1 }, remotesBefore);
        Assert.Equal(1UL, closeWaitBefore);
        Assert.Equal(0UL, second.Tcp[TcpState.CloseWait]);
        Assert.Empty(second.CloseWaitRemotes);
        Assert.Equal(establishedBefore + 2, second.Tcp[TcpState.Established]);
        Assert.Equal(tcpFdsBefore + 1, second.Fds[FdKind.SocketTcp]);
        Assert.Equal(openBefore + 1, second.OpenFds);
    }

    [Fact]
    public void Collect_OwnProcessWithSparseFdTable_FindsTheFdsPastTheHoles()
    {
        // fds are read by number until all the kernel counted are found; a run of closed numbers hands
        // over to listing the folder. Two sockets far beyond the rest of the table must still be seen.
        var listener = _sockets.Listen(IPAddress.Loopback);
        var (client, _) = _sockets.Connect(listener);
        _rawFds.Add(TestLibC.Dup2((int)client.Handle, 900));
        _rawFds.Add(TestLibC.Dup2((int)client.Handle, 2000));
        TestLibC.SetNofile(new TestLibC.RLimit { Soft = 4096, Hard = _nofile.Hard });
        var collector = NewCollector();
        collector.Collect();

        var before = FdCensus.Take();
        var self = Self(collector.Collect());
        var after = FdCensus.Take();

        Assert.True(before.SameAs(after), $"fds changed during the collection:\nbefore:\n{before}\nafter:\n{after}");
        Assert.Equal(before.Total + 2, self.OpenFds);
        Assert.Equal(before[FdKind.SocketTcp], self.Fds[FdKind.SocketTcp]);
        Assert.Equal(before.Total + 2 - before[FdKind.SocketTcp], self.OpenFds - self.Fds[FdKind.SocketTcp]);
    }

    [Fact]
    public void Collect_ManyTimes_LeaksNoFds()
    {
        var collector = NewCollector();
        collector.Collect();
        NewCollector(incremental: false).Collect();

        var before = FdCensus.Take();
        for (int i = 0; i < 10; i++)
        {
            collector.Collect();
            NewCollector(incremental: i % 2 == 0).Collect();
        }
        var after = FdCensus.Take();

        Assert.True(before.SameAs(after), $"before:\n{before}\nafter:\n{after}");
    }

    [Fact]
    public void Collect_WhileChildProcessesStartAndExit_NeverThrowsAndReportsOnlyWholeProcesses()
    {
        var collector = NewCollector(incremental: true);
        var children = new ConcurrentDictionary<int, Process>();
        Exception? spawnError = null;
        var spawner = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < 50; i++)
                {
                    var start = i % 2 == 0 ? new ProcessStartInfo("/bin/true") : new ProcessStartInfo("/bin/sleep", "0.01");
                    start.UseShellExecute = false;
                    var child = Process.Start(start)!;
                    children[child.Id] = child;
                }
            }
            catch (Exception e)
            {
                spawnError = e;
            }
        });
        spawner.Start();
        var clock = Stopwatch.StartNew();
        int collections = 0;

        while (spawner.IsAlive || collections < 3)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the children did not finish starting");
            var c = collector.Collect();
            collections++;

            Assert.Equal((uint)c.Processes.Count, c.Stats.ProcessesSeen);
            Assert.Equal(c.Processes.Count, c.Processes.Select(p => p.Pid).Distinct().Count());
            Assert.True(Self(c).FdsReadable);
            foreach (var p in c.Processes)
            {
                Assert.True(p.Pid > 0);
                Assert.False(string.IsNullOrEmpty(p.Comm), $"pid {p.Pid} has no comm");
                Assert.True(p.NofileHard >= p.NofileSoft && p.NofileHard > 0, $"pid {p.Pid} has no nofile limit");
                if (p.FdsReadable)
                {
                    Assert.Equal(p.OpenFds, p.Fds.Total);
                    Assert.True(p.Tcp.Total <= p.Fds[FdKind.SocketTcp], $"pid {p.Pid}: more TCP states than TCP fds");
                }
                if (children.ContainsKey(p.Pid))
                {
                    Assert.Equal(Environment.ProcessId, p.Ppid);
                }
            }
        }
        Assert.True(spawner.Join(Timeout));
        Assert.Null(spawnError);

        Assert.Equal(50, children.Count);
        foreach (var child in children.Values)
        {
            Assert.True(child.WaitForExit(Timeout), $"child {child.Id} did not exit");
            Assert.Equal(0, child.ExitCode);
            child.Dispose();
        }
        Assert.True(collections >= 3);
    }

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }
}
