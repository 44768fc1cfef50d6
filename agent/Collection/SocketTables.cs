using Fleet.Agent.Collection.Procfs;

namespace Fleet.Agent.Collection;

/// <summary>
/// The socket tables of one network namespace, read through a process inside it
/// (/proc/PID/net/tcp, tcp6, and on demand udp, udp6, unix, netlink, raw, raw6, packet).
/// </summary>
internal sealed class NamespaceSockets
{
    private readonly Dictionary<ulong, int> _tcpByInode = new();
    private Dictionary<ulong, FdKind>? _otherFamilies;

    public NamespaceSockets(ulong inode) => Inode = inode;

    public ulong Inode { get; }
    public int ReaderPid { get; set; }
    public List<TcpSocket> Tcp { get; } = new();
    /// <summary>Parallel to <see cref="Tcp"/>: whether a readable process holds the socket.</summary>
    public List<bool> TcpOwned { get; } = new();
    public uint MalformedLines { get; set; }
    public uint ProcessCount { get; set; }
    public bool TcpRead { get; set; }

    public void Reset()
    {
        DiscardTcp();
        _otherFamilies = null;
        MalformedLines = 0;
        ProcessCount = 0;
        TcpRead = false;
    }

    public void DiscardTcp()
    {
        _tcpByInode.Clear();
        Tcp.Clear();
        TcpOwned.Clear();
    }

    public void AddTcp(in TcpSocket socket)
    {
        if (socket.Inode != 0)
        {
            _tcpByInode[socket.Inode] = Tcp.Count;
        }
        Tcp.Add(socket);
        TcpOwned.Add(false);
    }

    public bool TryGetTcp(ulong inode, out int index) => _tcpByInode.TryGetValue(inode, out index);

    public bool OtherFamiliesLoaded => _otherFamilies is not null;

    public void SetOtherFamilies(Dictionary<ulong, FdKind> families) => _otherFamilies = families;

    public bool TryGetOtherFamily(ulong inode, out FdKind kind)
    {
        if (_otherFamilies is not null && _otherFamilies.TryGetValue(inode, out kind))
        {
            return true;
        }
        // Not default(FdKind), which is RegularFile: callers use the answer also when it is false.
        kind = FdKind.SocketOther;
        return false;
    }
}

/// <summary>Reads socket tables through a process's /proc/PID/net.</summary>
internal sealed class SocketTableReader
{
    private static readonly byte[][] TcpTables = ["net/tcp"u8.ToArray(), "net/tcp6"u8.ToArray()];
    // Allocated on first use: the agent's own namespace is read over netlink, not through these tables.
    private LineReader? _linesOrNull;

    private LineReader Lines => _linesOrNull ??= new LineReader();

    /// <summary>Reads tcp and tcp6 of the namespace through <paramref name="pidDir"/>; false when the process is gone.</summary>
    public bool ReadTcp(ProcDir pidDir, NamespaceSockets ns)
    {
        bool any = false;
        foreach (var table in TcpTables)
        {
            int fd = pidDir.OpenRelative(table, Native.LibC.O_RDONLY | Native.LibC.O_CLOEXEC, out _);
            if (fd < 0)
            {
                // tcp6 is absent when IPv6 is disabled; tcp absent means the process went away.
                continue;
            }
            any = true;
            Lines.Begin(fd);
            bool header = true;
            while (Lines.TryReadLine(out var line))
            {
                if (header)
                {
                    header = false;
                    continue;
                }
                if (ProcParsers.TryParseTcpLine(line, out var socket))
                {
                    ns.AddTcp(socket);
                }
                else if (!line.Trim((byte)' ').IsEmpty)
                {
                    ns.MalformedLines++;
                }
            }
            ns.MalformedLines += (uint)Lines.OverlongLines;
            Lines.End();
        }
        ns.TcpRead = any;
        return any;
    }

    /// <summary>Reads the other families' inode sets, to tell a UDP, Unix, netlink or raw socket apart.</summary>
    public Dictionary<ulong, FdKind> ReadOtherFamilies(ProcDir pidDir, NamespaceSockets ns)
    {
        var families = new Dictionary<ulong, FdKind>();
        ReadInodes(pidDir, "net/udp"u8, FdKind.SocketUdp, families, ns, InodeColumn.Inet);
        ReadInodes(pidDir, "net/udp6"u8, FdKind.SocketUdp, families, ns, InodeColumn.Inet);
        ReadInodes(pidDir, "net/unix"u8, FdKind.SocketUnix, families, ns, InodeColumn.Unix);
        ReadInodes(pidDir, "net/netlink"u8, FdKind.SocketNetlink, families, ns, InodeColumn.Netlink);
        ReadInodes(pidDir, "net/raw"u8, FdKind.SocketOther, families, ns, InodeColumn.Inet);
        ReadInodes(pidDir, "net/raw6"u8, FdKind.SocketOther, families, ns, InodeColumn.Inet);
        ReadInodes(pidDir, "net/packet"u8, FdKind.SocketOther, families, ns, InodeColumn.Packet);
        return families;
    }

    private enum InodeColumn
    {
        Inet,
        Unix,
        Netlink,
        Packet,
    }

    private void ReadInodes(ProcDir pidDir, ReadOnlySpan<byte> table, FdKind kind, Dictionary<ulong, FdKind> into, NamespaceSockets ns, InodeColumn column)
    {
        int fd = pidDir.OpenRelative(table, Native.LibC.O_RDONLY | Native.LibC.O_CLOEXEC, out _);
        if (fd < 0)
        {
            return;
        }
        Lines.Begin(fd);
        bool header = true;
        while (Lines.TryReadLine(out var line))
        {
            if (header)
            {
                header = false;
                continue;
            }
            bool ok = column switch
            {
                InodeColumn.Inet => ProcParsers.TryParseInetInode(line, out ulong inode) && Add(into, inode, kind),
                InodeColumn.Unix => ProcParsers.TryParseUnixInode(line, out ulong inode) && Add(into, inode, kind),
                InodeColumn.Netlink => ProcParsers.TryParseNetlinkInode(line, out ulong inode) && Add(into, inode, kind),
                _ => ProcParsers.TryParsePacketInode(line, out ulong inode) && Add(into, inode, kind),
            };
            if (!ok && !line.Trim((byte)' ').IsEmpty)
            {
                ns.MalformedLines++;
            }
        }
        Lines.End();
    }

    private static bool Add(Dictionary<ulong, FdKind> into, ulong inode, FdKind kind)
    {
        if (inode != 0)
        {
            into.TryAdd(inode, kind);
        }
        return true;
    }
}
