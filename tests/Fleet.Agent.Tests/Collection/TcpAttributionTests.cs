using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection;

public sealed class TcpAttributionTests : IDisposable
{
    private readonly ProcTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private static Dictionary<string, ulong> Remotes(ProcessRecord p) =>
        p.CloseWaitRemotes.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value);

    private static ProcessRecord Pid(HostCollection c, int pid) => Assert.Single(c.Processes, p => p.Pid == pid);

    [Fact]
    public void Collect_WithClosedPeer_CountsCloseWaitForOwningProcessByRemote()
    {
        // Both processes are in the host namespace, which has one set of tables.
        string[] table =
        [
            ProcNet.Tcp(0, "0.0.0.0:8080", "0.0.0.0:0", TcpState.Listen, 1005),
            ProcNet.Tcp(1, "10.0.0.1:40001", "10.1.2.3:5432", TcpState.Established, 1001),
            ProcNet.Tcp(2, "10.0.0.1:40002", "10.1.2.3:5432", TcpState.CloseWait, 1002),
            ProcNet.Tcp(3, "10.0.0.1:40003", "10.1.2.3:5432", TcpState.CloseWait, 1003),
            ProcNet.Tcp(4, "10.0.0.1:40004", "192.168.1.9:6379", TcpState.CloseWait, 1004),
            ProcNet.Tcp(5, "10.0.0.1:40010", "10.9.9.9:80", TcpState.CloseWait, 2001),
        ];
        _tree.Process(100)
            .Fds(3, 5, "pipe:[9]")
            .Fd(10, "socket:[1001]")
            .Fd(11, "socket:[1002]")
            .Fd(12, "socket:[1003]")
            .Fd(13, "socket:[1004]")
            .Fd(14, "socket:[1005]")
            .Tcp(table);
        _tree.Process(200)
            .Fd(3, "socket:[2001]")
            .Tcp(table);

        var c = _tree.Collect();

        var owner = Pid(c, 100);
        Assert.Equal(3UL, owner.Tcp[TcpState.CloseWait]);
        Assert.Equal(1UL, owner.Tcp[TcpState.Established]);
        Assert.Equal(1UL, owner.Tcp[TcpState.Listen]);
        Assert.Equal(5UL, owner.Tcp.Total);
        Assert.Equal(new Dictionary<string, ulong> { ["10.1.2.3:5432"] = 2, ["192.168.1.9:6379"] = 1 }, Remotes(owner));
        Assert.Equal(new Dictionary<string, ulong> { ["10.9.9.9:80"] = 1 }, Remotes(Pid(c, 200)));
    }

    [Fact]
    public void Collect_WithTcp6Sockets_ParsesIPv6AndShowsIPv4MappedAsIPv4()
    {
        _tree.Process(100)
            .Fd(3, "socket:[1001]")
            .Fd(4, "socket:[1002]")
            .Fd(5, "socket:[1003]")
            .Fd(6, "socket:[1004]")
            .Tcp(ProcNet.Tcp(0, "10.0.0.1:40001", "10.1.2.3:5432", TcpState.CloseWait, 1001))
            .Tcp6(
                ProcNet.Tcp6(0, "10.0.0.1:40002", "10.1.2.3:5432", TcpState.CloseWait, 1002),
                ProcNet.Tcp6(1, "[2001:db8::1]:40003", "[2001:db8::5]:443", TcpState.CloseWait, 1003),
                ProcNet.Tcp6(2, "[fe80::fc:ff:fe00:1]:8443", "[fd00::2]:50000", TcpState.Established, 1004));

        var p = Assert.Single(_tree.Collect().Processes);

        // The IPv4-mapped remote in tcp6 is the same remote as the IPv4 one in tcp.
        Assert.Equal(new Dictionary<string, ulong> { ["10.1.2.3:5432"] = 2, ["[2001:db8::5]:443"] = 1 }, Remotes(p));
        var mapped = p.CloseWaitRemotes.Keys.Single(k => k.Port == 5432);
        Assert.True(mapped.IsV4);
        Assert.Equal(System.Net.IPAddress.Parse("10.1.2.3"), mapped.ToIPAddress());
        var v6 = p.CloseWaitRemotes.Keys.Single(k => k.Port == 443);
        Assert.False(v6.IsV4);
        Assert.Equal(System.Net.IPAddress.Parse("2001:db8::5"), v6.ToIPAddress());
        Assert.Equal(1UL, p.Tcp[TcpState.Established]);
        Assert.Equal(4UL, p.Fds[FdKind.SocketTcp]);
    }

    [Fact]
    public void Collect_WithSocketSharedByTwoProcesses_CountsItForBoth()
    {
        // A forked worker inherits its parent's sockets: the same inode in both fd tables.
        string table = ProcNet.Tcp(0, "10.0.0.1:40001", "10.1.2.3:5432", TcpState.CloseWait, 1001);
        _tree.Process(100).Fd(3, "socket:[1001]").Tcp(table);
        _tree.Process(101).Fd(9, "socket:[1001]").Tcp(table);

        var c = _tree.Collect();

        foreach (int pid in new[] { 100, 101 })
        {
            var p = Pid(c, pid);
            Assert.Equal(1UL, p.Tcp[TcpState.CloseWait]);
            Assert.Equal(new Dictionary<string, ulong> { ["10.1.2.3:5432"] = 1 }, Remotes(p));
        }
        Assert.Equal(0UL, c.UnownedTcp.Total);
    }

    [Fact]
    public void Collect_WithSocketsNoProcessHolds_CountsThemPerHostByState()
    {
        _tree.Process(100)
            .Fd(3, "socket:[1001]")
            .Tcp(
                ProcNet.Tcp(0, "10.0.0.1:40001", "10.1.2.3:5432", TcpState.Established, 1001),
                ProcNet.Tcp(1, "10.0.0.1:40002", "10.1.2.3:5432", TcpState.TimeWait, 0),
                ProcNet.Tcp(2, "10.0.0.1:40003", "10.1.2.3:5432", TcpState.TimeWait, 0),
                ProcNet.Tcp(3, "0.0.0.0:22", "0.0.0.0:0", TcpState.Listen, 7777),
                ProcNet.Tcp(4, "10.0.0.1:40004", "10.1.2.3:5432", TcpState.FinWait2, 0))
            .Tcp6(ProcNet.Tcp6(0, "[2001:db8::1]:40005", "[2001:db8::5]:443", TcpState.TimeWait, 0));

        var c = _tree.Collect();

        Assert.Equal(3UL, c.UnownedTcp[TcpState.TimeWait]);
        Assert.Equal(1UL, c.UnownedTcp[TcpState.Listen]);
        Assert.Equal(1UL, c.UnownedTcp[TcpState.FinWait2]);
        Assert.Equal(5UL, c.UnownedTcp.Total);
        var p = Assert.Single(c.Processes);
        Assert.Equal(1UL, p.Tcp.Total);
        Assert.Empty(p.CloseWaitRemotes);
    }
}
