using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Fleet.Agent.Collection.Native;

/// <summary>
/// Dumps the TCP sockets of the agent's own network namespace through NETLINK_SOCK_DIAG, as ss does.
/// The kernel walks its socket hash once per family, where /proc/net/tcp walks it again for every read;
/// on a host with a large established-hash table that is most of a collection's cost. Other namespaces
/// are read through /proc/PID/net/tcp, since entering them would need CAP_SYS_ADMIN.
/// </summary>
internal static unsafe partial class InetDiag
{
    private const int AF_NETLINK = 16;
    private const int AF_INET = 2;
    private const int AF_INET6 = 10;
    private const int SOCK_DGRAM = 2;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int NETLINK_SOCK_DIAG = 4;
    private const ushort SOCK_DIAG_BY_FAMILY = 20;
    private const ushort TCPDIAG_GETSOCK = 18;
    private const int CompatRequestSize = 60;
    private const ushort NLM_F_REQUEST = 0x1;
    private const ushort NLM_F_DUMP = 0x300;
    private const ushort NLMSG_ERROR = 2;
    private const ushort NLMSG_DONE = 3;
    private const byte IPPROTO_TCP = 6;
    private const int NlMsgHeaderSize = 16;
    private const int RequestSize = 56;
    private const int DiagMsgMinSize = 72;

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    /// <summary>Calls <paramref name="onSocket"/> for every TCP socket (IPv4 and IPv6); false when netlink is unavailable.</summary>
    public static bool TryDumpTcp(byte[] buffer, Action<TcpSocket> onSocket, out uint malformed)
    {
        malformed = 0;
        int fd = Socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (fd < 0)
        {
            return false;
        }
        try
        {
            // One walk of the kernel's socket hash for both families (the compatibility request leaves the
            // family unspecified); kernels without it get one request per family.
            if (Dump(fd, TCPDIAG_GETSOCK, 0, buffer, onSocket, ref malformed))
            {
                return true;
            }
            return Dump(fd, SOCK_DIAG_BY_FAMILY, AF_INET, buffer, onSocket, ref malformed)
                && Dump(fd, SOCK_DIAG_BY_FAMILY, AF_INET6, buffer, onSocket, ref malformed);
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    private static bool Dump(int fd, ushort type, byte family, byte[] buffer, Action<TcpSocket> onSocket, ref uint malformed)
    {
        int size = NlMsgHeaderSize + (type == TCPDIAG_GETSOCK ? CompatRequestSize : RequestSize);
        byte* request = stackalloc byte[NlMsgHeaderSize + CompatRequestSize];
        new Span<byte>(request, NlMsgHeaderSize + CompatRequestSize).Clear();
        *(uint*)request = (uint)size;
        *(ushort*)(request + 4) = type;
        *(ushort*)(request + 6) = NLM_F_REQUEST | NLM_F_DUMP;
        *(uint*)(request + 8) = (uint)type << 8 | family;
        byte* req = request + NlMsgHeaderSize;
        if (type == TCPDIAG_GETSOCK)
        {
            // struct inet_diag_req: family, src_len, dst_len, ext, sockid (48 bytes), states, dbs.
            *(uint*)(req + 52) = 0xFFFFFFFF; // every state
        }
        else
        {
            // struct inet_diag_req_v2: family, protocol, ext, pad, states, sockid.
            req[0] = family;
            req[1] = IPPROTO_TCP;
            *(uint*)(req + 4) = 0xFFFFFFFF; // every state
        }
        if (Send(fd, request, (nuint)size, 0) < 0)
        {
            return false;
        }
        fixed (byte* buf = buffer)
        {
            while (true)
            {
                nint n = Recv(fd, buf, (nuint)buffer.Length, 0);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == LibC.EINTR)
                    {
                        continue;
                    }
                    return false;
                }
                int offset = 0;
                while (offset + NlMsgHeaderSize <= n)
                {
                    uint len = *(uint*)(buf + offset);
                    ushort msgType = *(ushort*)(buf + offset + 4);
                    if (len < NlMsgHeaderSize || offset + len > n)
                    {
                        malformed++;
                        return true;
                    }
                    if (msgType == NLMSG_DONE)
                    {
                        return true;
                    }
                    if (msgType == NLMSG_ERROR)
                    {
                        return false;
                    }
                    if (msgType == type && len >= NlMsgHeaderSize + DiagMsgMinSize)
                    {
                        onSocket(Parse(new ReadOnlySpan<byte>(buf + offset + NlMsgHeaderSize, (int)len - NlMsgHeaderSize)));
                    }
                    else
                    {
                        malformed++;
                    }
                    offset += (int)((len + 3) & ~3u);
                }
            }
        }
    }

    /// <summary>struct inet_diag_msg: family, state, timer, retrans, sockid (ports big-endian, addresses in network order), expires, rqueue, wqueue, uid, inode.</summary>
    internal static TcpSocket Parse(ReadOnlySpan<byte> msg)
    {
        bool v4 = msg[0] == AF_INET;
        var state = msg[1] is >= 1 and <= 12 ? (TcpState)msg[1] : TcpState.Unknown;
        ushort sport = BinaryPrimitives.ReadUInt16BigEndian(msg[4..]);
        ushort dport = BinaryPrimitives.ReadUInt16BigEndian(msg[6..]);
        var local = Address(msg.Slice(8, 16), v4, sport);
        var remote = Address(msg.Slice(24, 16), v4, dport);
        uint inode = MemoryMarshal.Read<uint>(msg[68..]);
        return new TcpSocket(inode, state, local, remote);
    }

    private static Endpoint Address(ReadOnlySpan<byte> a, bool v4, ushort port)
    {
        if (v4)
        {
            return new Endpoint(BinaryPrimitives.ReadUInt32BigEndian(a), true, port);
        }
        var value = BinaryPrimitives.ReadUInt128BigEndian(a);
        return value >> 32 == 0xFFFF ? new Endpoint((uint)value, true, port) : new Endpoint(value, false, port);
    }
}
