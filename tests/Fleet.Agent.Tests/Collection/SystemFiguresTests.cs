using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection;

public sealed class SystemFiguresTests : IDisposable
{
    private readonly ProcTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Collect_WithSysctlFiles_ReadsEveryFigureExactly()
    {
        _tree.Process(100);
        _tree.Sys("fs/file-nr", "2000\t300\t100000\n")
            .Sys("net/ipv4/ip_local_port_range", "20000\t20999\n")
            .Sys("net/ipv4/tcp_max_orphans", "4096\n")
            .Sys("net/ipv4/tcp_fin_timeout", "30\n")
            .Sys("net/ipv4/tcp_tw_reuse", "1\n");

        var c = _tree.Collect();
        var s = c.System;

        Assert.Equal(1700UL, s.FileHandlesAllocated);
        Assert.Equal(100000UL, s.FileHandlesMax);
        Assert.Equal(1048576UL, s.NrOpen);
        Assert.Equal(20000U, s.EphemeralLow);
        Assert.Equal(20999U, s.EphemeralHigh);
        Assert.Equal(1000U, s.EphemeralRangeSize);
        Assert.Equal(4096UL, s.TcpMaxOrphans);
        Assert.Equal(30U, s.TcpFinTimeoutSeconds);
        Assert.Equal(1, s.TcpTwReuse);
        Assert.True(s.ConntrackPresent);
        Assert.Equal(17UL, s.ConntrackCount);
        Assert.Equal(262144UL, s.ConntrackMax);
        Assert.Equal(128UL, s.InotifyMaxUserInstances);
        Assert.Equal(65536UL, s.InotifyMaxUserWatches);
        Assert.Equal(0U, c.Stats.MalformedLines);
    }

    [Fact]
    public void Collect_WithRealFileNrFormat_ReportsAllocatedHandles()
    {
        _tree.Process(100);

        var s = _tree.Collect().System;

        Assert.Equal(1184UL, s.FileHandlesAllocated);
        Assert.Equal(9223372036854775807UL, s.FileHandlesMax);
        Assert.Equal(28232U, s.EphemeralRangeSize);
        Assert.Equal(2, s.TcpTwReuse);
    }

    [Fact]
    public void Collect_WithoutConntrackOrTwReuse_ReportsThemAbsent()
    {
        _tree.Process(100);
        _tree.RemoveSys("net/netfilter/nf_conntrack_count")
            .RemoveSys("net/netfilter/nf_conntrack_max")
            .RemoveSys("net/ipv4/tcp_tw_reuse");

        var c = _tree.Collect();

        Assert.False(c.System.ConntrackPresent);
        Assert.Equal(0UL, c.System.ConntrackCount);
        Assert.Equal(0UL, c.System.ConntrackMax);
        Assert.Equal(-1, c.System.TcpTwReuse);
        Assert.Equal(0U, c.Stats.MalformedLines);
    }

    [Fact]
    public void Collect_WithInotifyFds_SumsInstancesByEffectiveUid()
    {
        _tree.Process(100).Status(1000).Fd(3, "anon_inode:inotify").Fd(4, "anon_inode:inotify").Fd(5, "anon_inode:[eventfd]");
        _tree.Process(101).Status(1000).Fd(3, "anon_inode:inotify");
        _tree.Process(102).Status(0).Fd(7, "anon_inode:inotify");
        _tree.Process(103).Status(2000).Fd(3, "pipe:[9]");

        var c = _tree.Collect();

        Assert.Equal(new Dictionary<uint, ulong> { [0] = 1, [1000] = 3 }, c.System.InotifyByUser);
        Assert.Equal(2UL, Assert.Single(c.Processes, p => p.Pid == 100).InotifyInstances);
    }

    [Fact]
    public void Collect_WithHostFiles_ReadsHostIdentity()
    {
        _tree.Process(100);

        var host = _tree.Collect().Host;

        Assert.Equal(ProcTree.MachineId, host.MachineId);
        Assert.Equal(ProcTree.BootId, host.BootId);
        Assert.Equal("fixture-host", host.Hostname);
        Assert.Equal("6.1.0-18-amd64", host.Kernel);
    }

    [Fact]
    public void Collect_WithSocketsInPid1Namespace_CountsEphemeralPortsInUseAndTheTopRemote()
    {
        _tree.Sys("net/ipv4/ip_local_port_range", "40000\t40010\n");
        _tree.Process(1)
            .Sockstat(inuse: 9, orphan: 2, tw: 7)
            .Tcp(
                // LISTEN inside the range: not an ephemeral port in use.
                ProcNet.Tcp(0, "0.0.0.0:40000", "0.0.0.0:0", TcpState.Listen, 1000),
                ProcNet.Tcp(1, "10.0.0.1:40001", "10.0.0.5:5432", TcpState.Established, 1001),
                ProcNet.Tcp(2, "10.0.0.1:40002", "10.0.0.5:5432", TcpState.Established, 1002),
                ProcNet.Tcp(3, "10.0.0.1:40003", "10.0.0.5:5432", TcpState.TimeWait, 0),
                ProcNet.Tcp(4, "10.0.0.1:40004", "10.0.0.9:80", TcpState.CloseWait, 1004),
                // Outside the range.
                ProcNet.Tcp(5, "10.0.0.1:22", "10.0.0.9:80", TcpState.Established, 1005),
                ProcNet.Tcp(6, "10.0.0.1:40011", "10.0.0.9:80", TcpState.Established, 1006),
                ProcNet.Tcp(7, "10.0.0.1:39999", "10.0.0.9:80", TcpState.Established, 1007))
            .Tcp6(
                // Port 40001 again, to another remote: one port in use, two sockets.
                ProcNet.Tcp6(0, "[2001:db8::1]:40001", "[2001:db8::5]:443", TcpState.Established, 1008),
                ProcNet.Tcp6(1, "[2001:db8::1]:40005", "[2001:db8::5]:443", TcpState.SynSent, 1009));
        // Another namespace's sockets are not the host's ports.
        _tree.Process(200)
            .NetNs(4026532417)
            .Tcp(
                ProcNet.Tcp(0, "172.17.0.2:40006", "10.0.0.9:80", TcpState.Established, 2001),
                ProcNet.Tcp(1, "172.17.0.2:40007", "10.0.0.9:80", TcpState.Established, 2002),
                ProcNet.Tcp(2, "172.17.0.2:40008", "10.0.0.9:80", TcpState.Established, 2003),
                ProcNet.Tcp(3, "172.17.0.2:40009", "10.0.0.9:80", TcpState.Established, 2004))
            .Sockstat(inuse: 1000, orphan: 1000, tw: 1000);

        var s = _tree.Collect().System;

        Assert.Equal(5UL, s.EphemeralPortsInUse);
        Assert.Equal("10.0.0.5:5432", s.TopEphemeralRemote?.ToString());
        Assert.Equal(3UL, s.TopEphemeralRemotePorts);
        Assert.Equal(2UL, s.TcpOrphans);
        Assert.Equal(7UL, s.TcpTimeWait);
    }
}
