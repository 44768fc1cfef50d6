using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection;

public sealed class MalformedInputTests : IDisposable
{
    private readonly ProcTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Collect_WithMalformedAndTruncatedTcpLines_SkipsAndCountsThem()
    {
        _tree.Process(100)
            .Fd(3, "socket:[1001]")
            .Fd(4, "socket:[1006]")
            .Tcp(
                ProcNet.Tcp(0, "10.0.0.1:40001", "10.1.2.3:5432", TcpState.CloseWait, 1001),
                "garbage",
                "",
                // Cut off after the state: too few fields.
                "   2: 0100000A:9C42 0302010A:1538 08 00000000:0000",
                // State 0x0D does not exist.
                ProcNet.Tcp(3, "10.0.0.1:40003", "10.1.2.3:5432", TcpState.Established, 1003).Replace(" 01 ", " 0D ", StringComparison.Ordinal),
                // Not hex.
                "   4: ZZ00000A:9C44 0302010A:1538 01 00000000:00000000 00:00000000 00000000  1000        0 1004 1 0000000000000000 100 0 0 10 0",
                // The inode is not a number.
                "   5: 0100000A:9C45 0302010A:1538 01 00000000:00000000 00:00000000 00000000  1000        0 10x5 1 0000000000000000 100 0 0 10 0",
                // Still read after all that.
                ProcNet.Tcp(6, "10.0.0.1:40006", "10.1.2.3:5432", TcpState.CloseWait, 1006))
            .Tcp6(
                // An address of 24 hex digits: neither IPv4 nor IPv6.
                "   0: 000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1007 1 0000000000000000 100 0 0 10 0",
                // The file ends mid-line.
                "   1: 00000000000000000000000001000000:1F91 0000");

        var c = _tree.Collect();

        Assert.Equal(7U, c.Stats.MalformedLines);
        var ns = Assert.Single(c.Namespaces);
        Assert.Equal(7U, ns.MalformedLines);
        Assert.Equal(2UL, ns.TcpSockets);
        var p = Assert.Single(c.Processes);
        Assert.Equal(2UL, p.Tcp[TcpState.CloseWait]);
        Assert.Equal(new Dictionary<string, ulong> { ["10.1.2.3:5432"] = 2 }, p.CloseWaitRemotes.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value));
    }

    [Fact]
    public void Collect_WithMalformedStatFiles_SkipsThoseProcessesAndCountsThem()
    {
        _tree.Process(100);
        _tree.Process(101).File("stat", "101 (cut) S 1 101 101");
        _tree.Process(102).File("stat", "this is not a stat line\n");
        _tree.Process(103).File("stat", "103 (no-threads) S 1 103 103 0 -1 4194560 1260 0 3 0 12 5 0 0 20 0 many 0 5000 23330816 2410\n");
        _tree.Process(104).File("stat", "");

        var c = _tree.Collect();

        Assert.Equal(4U, c.Stats.MalformedLines);
        Assert.Equal(100, Assert.Single(c.Processes).Pid);
        Assert.Equal(0U, c.Stats.ProcessesVanished);
    }

    [Fact]
    public void Collect_WithTruncatedLimits_KeepsTheProcessAndCountsTheFile()
    {
        _tree.Process(100).File("limits",
            "Limit                     Soft Limit           Hard Limit           Units     \n"
            + "Max cpu time              unlimited            unlimited            seconds   \n"
            + "Max file size             unlim");
        _tree.Process(101).File("limits",
            "Limit                     Soft Limit           Hard Limit           Units     \n"
            + "Max open files            lots                 4096                 files     \n");
        _tree.Process(102).Limits("1024", "4096").Fds(0, 3, "pipe:[9]");

        var c = _tree.Collect();

        Assert.Equal(2U, c.Stats.MalformedLines);
        Assert.Equal(3, c.Processes.Count);
        var truncated = Assert.Single(c.Processes, p => p.Pid == 100);
        Assert.Equal(0UL, truncated.NofileSoft);
        Assert.Equal(0d, truncated.SoftLimitPercent);
        var good = Assert.Single(c.Processes, p => p.Pid == 102);
        Assert.Equal(1024UL, good.NofileSoft);
        Assert.Equal(4096UL, good.NofileHard);
    }

    [Fact]
    public void Collect_WithTcpLineLongerThanTheReadBuffer_SkipsItCountsItOnceAndReadsOn()
    {
        string overlong = "   1: 0100000A:9C42 0302010A:1538 08 00000000:00000000 00:00000000 00000000  1000        0 1002 1 "
            + new string('f', 100_000);
        _tree.Process(100)
            .Fd(3, "socket:[1003]")
            .Tcp(
                ProcNet.Tcp(0, "10.0.0.1:40001", "10.1.2.3:5432", TcpState.Established, 1001),
                overlong,
                ProcNet.Tcp(2, "10.0.0.1:40003", "10.1.2.3:5432", TcpState.CloseWait, 1003));
        var collector = _tree.NewCollector(incremental: true);

        var first = collector.Collect();
        uint firstMalformed = first.Stats.MalformedLines;
        ulong firstCloseWait = Assert.Single(first.Processes).Tcp[TcpState.CloseWait];
        var second = collector.Collect();

        Assert.Equal(1U, firstMalformed);
        Assert.Equal(1UL, firstCloseWait);
        // The next collection reads the same file: the same one bad line, not a running total.
        Assert.Equal(1U, second.Stats.MalformedLines);
        Assert.Equal(2UL, Assert.Single(second.Namespaces).TcpSockets);
    }

    [Fact]
    public void Collect_WithMalformedSysctls_CountsThemAndLeavesTheFiguresAtZero()
    {
        _tree.Process(100);
        _tree.Sys("fs/nr_open", "lots\n")
            .Sys("net/ipv4/ip_local_port_range", "32768\t70000\n")
            .Sys("fs/file-nr", "1184\t0\n");

        var c = _tree.Collect();

        Assert.Equal(3U, c.Stats.MalformedLines);
        Assert.Equal(0UL, c.System.NrOpen);
        Assert.Equal(0U, c.System.EphemeralRangeSize);
        Assert.Equal(0UL, c.System.FileHandlesMax);
        Assert.Equal(65536UL, c.System.TcpMaxOrphans);
    }
}
