using System.Buffers.Binary;
using System.Net;
using Fleet.Agent.Collection;
using Fleet.Agent.Collection.Native;

namespace Fleet.Agent.Tests.Collection;

/// <summary>The netlink path the collector takes for its own namespace's TCP table (struct inet_diag_msg).</summary>
public sealed class InetDiagTests
{
    private static byte[] Message(byte family, TcpState state, string local, ushort localPort, string remote, ushort remotePort, uint inode)
    {
        var msg = new byte[72];
        msg[0] = family;
        msg[1] = (byte)state;
        BinaryPrimitives.WriteUInt16BigEndian(msg.AsSpan(4), localPort);
        BinaryPrimitives.WriteUInt16BigEndian(msg.AsSpan(6), remotePort);
        IPAddress.Parse(local).GetAddressBytes().CopyTo(msg, 8);
        IPAddress.Parse(remote).GetAddressBytes().CopyTo(msg, 24);
        BinaryPrimitives.WriteUInt32LittleEndian(msg.AsSpan(64), 1000);
        BitConverter.GetBytes(inode).CopyTo(msg, 68);
        return msg;
    }

    [Fact]
    public void Parse_WithIPv4Message_ReadsEndpointsStateAndInode()
    {
        var s = InetDiag.Parse(Message(2, TcpState.CloseWait, "127.0.0.1", 40000, "10.1.2.3", 5432, 48213));

        Assert.Equal(TcpState.CloseWait, s.State);
        Assert.Equal(48213UL, s.Inode);
        Assert.Equal("127.0.0.1:40000", s.Local.ToString());
        Assert.Equal("10.1.2.3:5432", s.Remote.ToString());
    }

    [Fact]
    public void Parse_WithIPv6AndIPv4MappedMessages_KeepsIPv6AndShowsMappedAsIPv4()
    {
        var v6 = InetDiag.Parse(Message(10, TcpState.Established, "2001:db8::1", 443, "2001:db8::9", 50000, 7));
        var mapped = InetDiag.Parse(Message(10, TcpState.CloseWait, "::ffff:127.0.0.1", 42000, "::ffff:10.1.2.3", 5432, 8));

        Assert.Equal("[2001:db8::1]:443", v6.Local.ToString());
        Assert.Equal("[2001:db8::9]:50000", v6.Remote.ToString());
        Assert.True(mapped.Remote.IsV4);
        Assert.Equal("10.1.2.3:5432", mapped.Remote.ToString());
        // The same key as an IPv4 socket to the same remote.
        Assert.Equal(InetDiag.Parse(Message(2, TcpState.CloseWait, "127.0.0.1", 40000, "10.1.2.3", 5432, 9)).Remote, mapped.Remote);
    }
}
