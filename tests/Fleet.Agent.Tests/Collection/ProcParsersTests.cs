using System.Net;
using System.Text;
using Fleet.Agent.Collection;
using Fleet.Agent.Collection.Procfs;

namespace Fleet.Agent.Tests.Collection;

public sealed class ProcParsersTests
{
    private static byte[] Bytes(string s) => Encoding.ASCII.GetBytes(s);

    [Fact]
    public void TryParseTcpLine_WithKernelIPv4Listener_ReadsEndpointsStateAndInode()
    {
        // Verbatim from /proc/self/net/tcp of a 6.x kernel.
        var line = Bytes("   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1145 1 00000000371410ee 100 0 0 10 0                      ");

        Assert.True(ProcParsers.TryParseTcpLine(line, out var s));

        Assert.Equal(TcpState.Listen, s.State);
        Assert.Equal(1145UL, s.Inode);
        Assert.Equal("0.0.0.0:2024", s.Local.ToString());
        Assert.Equal("0.0.0.0:0", s.Remote.ToString());
        Assert.True(s.Local.IsV4);
    }

    [Fact]
    public void TryParseTcpLine_WithIPv4CloseWait_ReadsHostOrderWords()
    {
        var line = Bytes("  12: 0100007F:9C40 0302010A:1538 08 00000000:00000001 00:00000000 00000000  1000        0 48213 1 000000009d1e77b4 20 4 30 10 -1");

        Assert.True(ProcParsers.TryParseTcpLine(line, out var s));

        Assert.Equal(TcpState.CloseWait, s.State);
        Assert.Equal(48213UL, s.Inode);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 40000).ToString(), s.Local.ToString());
        Assert.Equal(IPAddress.Parse("10.1.2.3"), s.Remote.ToIPAddress());
        Assert.Equal(5432, s.Remote.Port);
    }

    [Fact]
    public void TryParseTcpLine_WithTimeWait_ReadsInodeZero()
    {
        var line = Bytes("   5: 0100007F:9C41 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000");

        Assert.True(ProcParsers.TryParseTcpLine(line, out var s));

        Assert.Equal(TcpState.TimeWait, s.State);
        Assert.Equal(0UL, s.Inode);
    }

    [Fact]
    public void TryParseTcpLine_WithIPv6_ReadsTheAddress()
    {
        var line = Bytes("   0: B80D0120000000000000000001000000:01BB B80D0120000000000000000009000000:C350 01 00000000:00000000 02:000AFC7E 00000000  1000        0 77120 1 0000000000000000 20 4 28 10 -1");

        Assert.True(ProcParsers.TryParseTcpLine(line, out var s));

        Assert.False(s.Local.IsV4);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), s.Local.ToIPAddress());
        Assert.Equal(443, s.Local.Port);
        Assert.Equal("[2001:db8::9]:50000", s.Remote.ToString());
        Assert.Equal(TcpState.Established, s.State);
    }

    [Fact]
    public void TryParseTcpLine_WithIPv6Loopback_ReadsColonColonOne()
    {
        var line = Bytes("   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9001 1 0000000000000000 100 0 0 10 0");

        Assert.True(ProcParsers.TryParseTcpLine(line, out var s));

        Assert.Equal(IPAddress.IPv6Loopback, s.Local.ToIPAddress());
        Assert.Equal("[::1]:8080", s.Local.ToString());
    }

    [Fact]
    public void TryParseTcpLine_WithIPv4MappedIPv6_ShowsIPv4()
    {
        var line = Bytes("   2: 0000000000000000FFFF00000100007F:A410 0000000000000000FFFF00000302010A:1538 08 00000000:00000000 00:00000000 00000000     0        0 9002 1 0000000000000000 20 4 30 10 -1");

        Assert.True(ProcParsers.TryParseTcpLine(line, out var s));

        Assert.True(s.Local.IsV4);
        Assert.True(s.Remote.IsV4);
        Assert.Equal("127.0.0.1:42000", s.Local.ToString());
        Assert.Equal("10.1.2.3:5432", s.Remote.ToString());
        // The same key as the IPv4 table gives for the same remote.
        Assert.True(ProcParsers.TryParseEndpoint(Bytes("0302010A:1538"), out var v4));
        Assert.Equal(v4, s.Remote);
    }

    [Theory]
    [InlineData("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode")]
    [InlineData("")]
    [InlineData("   0: 0100007F:9C40 0302010A:1538 08")]
    [InlineData("   0: 0100007F:9C40 0302010A:1538 00 00000000:00000000 00:00000000 00000000     0        0 1 1 0")]
    [InlineData("   0: 0100007F:9C40 0302010A:1538 0D 00000000:00000000 00:00000000 00000000     0        0 1 1 0")]
    [InlineData("   0: 0100007F:1FFFFF 0302010A:1538 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0")]
    [InlineData("   0: 01007F:9C40 0302010A:1538 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0")]
    [InlineData("   0: 0100007F9C40 0302010A:1538 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0")]
    [InlineData("   0: 0100007F:9C40 0302010A:1538 01 00000000:00000000 00:00000000 00000000     0        0 -1 1 0")]
    public void TryParseTcpLine_WithHeaderOrMalformedLine_ReturnsFalse(string line)
    {
        Assert.False(ProcParsers.TryParseTcpLine(Bytes(line), out _));
    }

    [Fact]
    public void TryParseStat_WithRealLine_ReadsFields()
    {
        var stat = Bytes("3337 (cat) R 3335 3335 2386 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 49005 3133440 380 18446744073709551615 94769580294144 94769580314025 140729016804480 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94769580330032 94769580331648 94770493259776 140729016809953 140729016809973 140729016809973 140729016811499 0\n");

        Assert.True(ProcParsers.TryParseStat(stat, out var s));

        Assert.Equal("cat", s.Comm);
        Assert.Equal('R', s.State);
        Assert.Equal(3335, s.Ppid);
        Assert.Equal(4194304U, s.Flags);
        Assert.False(s.IsKernelThread);
        Assert.Equal(1U, s.Threads);
        Assert.Equal(49005UL, s.StartTicks);
    }

    [Fact]
    public void TryParseStat_WithKthreadFlag_IsKernelThread()
    {
        var stat = Bytes("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n");

        Assert.True(ProcParsers.TryParseStat(stat, out var s));

        Assert.True(s.IsKernelThread);
    }

    [Fact]
    public void TryParseStat_WithCommEndingInParenAndSpace_UsesTheLastParen()
    {
        var stat = Bytes("77 (evil) S 1 2 (x) R 5 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 3 0 999 0 0 0\n");

        Assert.True(ProcParsers.TryParseStat(stat, out var s));

        Assert.Equal("evil) S 1 2 (x", s.Comm);
        Assert.Equal('R', s.State);
        Assert.Equal(5, s.Ppid);
        Assert.Equal(3U, s.Threads);
        Assert.Equal(999UL, s.StartTicks);
    }

    [Theory]
    [InlineData("Max open files            1024                 524288               files     \n", 1024UL, 524288UL)]
    [InlineData("Max open files            unlimited            unlimited            files     \n", ulong.MaxValue, ulong.MaxValue)]
    [InlineData("Max processes             96364                96364                processes \nMax open files            20000                20000                files     ", 20000UL, 20000UL)]
    public void TryParseNofile_WithLimitsLine_ReadsSoftAndHard(string limits, ulong soft, ulong hard)
    {
        Assert.True(ProcParsers.TryParseNofile(Bytes(limits), out ulong s, out ulong h));

        Assert.Equal(soft, s);
        Assert.Equal(hard, h);
    }

    [Theory]
    [InlineData("Max processes             96364                96364                processes \n")]
    [InlineData("Max open files            1024\n")]
    [InlineData("Max open files            -1                   4096                 files\n")]
    public void TryParseNofile_WithoutAUsableLine_ReturnsFalse(string limits)
    {
        Assert.False(ProcParsers.TryParseNofile(Bytes(limits), out _, out _));
    }

    [Fact]
    public void TryParseStatusEuid_ReadsTheSecondUidColumn()
    {
        Assert.True(ProcParsers.TryParseStatusEuid(Bytes("Name:\tsudo\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n"), out uint euid));
        Assert.Equal(0U, euid);
    }

    [Theory]
    [InlineData("28429713 3307080 86\n", 28429713UL)]
    [InlineData("0 0 1", 0UL)]
    public void TryParseSchedstatRuntime_ReadsTheFirstFigure(string text, ulong expected)
    {
        Assert.True(ProcParsers.TryParseSchedstatRuntime(Bytes(text), out ulong ns));
        Assert.Equal(expected, ns);
    }

    [Theory]
    [InlineData("net:[4026531833]", "net:[", true, 4026531833UL)]
    [InlineData("socket:[48213]", "socket:[", true, 48213UL)]
    [InlineData("socket:[]", "socket:[", false, 0UL)]
    [InlineData("socket:[12", "socket:[", false, 0UL)]
    [InlineData("pipe:[12]", "socket:[", false, 0UL)]
    public void TryParseBracketInode_ReadsTheInode(string link, string prefix, bool ok, ulong inode)
    {
        Assert.Equal(ok, ProcParsers.TryParseBracketInode(Bytes(link), Bytes(prefix), out ulong value));
        Assert.Equal(inode, value);
    }

    [Fact]
    public void TryParseUnixAndNetlinkInodes_ReadTheirInodeColumns()
    {
        Assert.True(ProcParsers.TryParseUnixInode(Bytes("0000000070201ebc: 00000003 00000000 00000000 0001 03  1141"), out ulong unix));
        Assert.Equal(1141UL, unix);
        Assert.True(ProcParsers.TryParseUnixInode(Bytes("000000007c2a1b3e: 00000002 00000000 00010000 0001 01 3001 /run/app.sock"), out ulong named));
        Assert.Equal(3001UL, named);
        Assert.True(ProcParsers.TryParseNetlinkInode(Bytes("00000000f52b7b60 4   0          00000000 0        0        0     2        0        480     "), out ulong netlink));
        Assert.Equal(480UL, netlink);
        Assert.True(ProcParsers.TryParseInetInode(Bytes(" 3994: 0100007F:A002 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 39089 2 000000003b2f955c 0         "), out ulong udp));
        Assert.Equal(39089UL, udp);
    }

    [Fact]
    public void TryFindLabeledValue_ReadsSockstatFigures()
    {
        var sockstat = Bytes("sockets: used 11\nTCP: inuse 1 orphan 3 tw 12 alloc 1 mem 195\nUDP: inuse 0 mem 0\n");

        Assert.True(ProcParsers.TryFindLabeledValue(sockstat, "TCP:"u8, "orphan"u8, out ulong orphan));
        Assert.True(ProcParsers.TryFindLabeledValue(sockstat, "TCP:"u8, "tw"u8, out ulong tw));
        Assert.False(ProcParsers.TryFindLabeledValue(sockstat, "TCP:"u8, "nothere"u8, out _));

        Assert.Equal(3UL, orphan);
        Assert.Equal(12UL, tw);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', 0, (byte)'b', 0 }, 100, "a b", false)]
    [InlineData(new byte[] { 0xFF, (byte)'x' }, 100, "\uFFFDx", false)]
    [InlineData(new byte[] { (byte)'a', 0x07, 0x7F, (byte)'b' }, 100, "a??b", false)]
    [InlineData(new byte[] { (byte)'a', (byte)'b', (byte)'c', (byte)'d' }, 2, "ab", true)]
    [InlineData(new byte[] { 0xC3, 0xA9, 0xC3, 0xA9 }, 3, "\u00E9\uFFFD", true)]
    [InlineData(new byte[] { 0xC2, 0x85 }, 10, "?", false)]
    public void Clean_WithHostileBytes_ReturnsBoundedPrintableText(byte[] input, int max, string expected, bool truncated)
    {
        Assert.Equal(expected, TextSanitizer.Clean(input, max, out bool wasTruncated));
        Assert.Equal(truncated, wasTruncated);
    }
}
