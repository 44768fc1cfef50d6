using System.Net;

namespace Fleet.Agent.Collection;

/// <summary>What an open file descriptor refers to.</summary>
internal enum FdKind : byte
{
    RegularFile,
    Directory,
    Pipe,
    Fifo,
    SocketTcp,
    SocketUdp,
    SocketUnix,
    SocketNetlink,
    SocketOther,
    CharDevice,
    BlockDevice,
    Eventpoll,
    Eventfd,
    Timerfd,
    Signalfd,
    Inotify,
    AnonInodeOther,
    Memfd,
    Other,
}

/// <summary>Counts of fds by <see cref="FdKind"/>.</summary>
internal struct FdKindCounts
{
    public const int KindCount = (int)FdKind.Other + 1;

    private ulong[]? _counts;

    public readonly ulong this[FdKind kind] => _counts is null ? 0 : _counts[(int)kind];

    public void Add(FdKind kind, ulong n = 1)
    {
        _counts ??= new ulong[KindCount];
        _counts[(int)kind] += n;
    }

    public void Add(in FdKindCounts other)
    {
        if (other._counts is null)
        {
            return;
        }
        _counts ??= new ulong[KindCount];
        for (int i = 0; i < KindCount; i++)
        {
            _counts[i] += other._counts[i];
        }
    }

    public void Clear()
    {
        if (_counts is not null)
        {
            Array.Clear(_counts);
        }
    }

    public readonly ulong Total
    {
        get
        {
            ulong sum = 0;
            if (_counts is not null)
            {
                foreach (ulong c in _counts)
                {
                    sum += c;
                }
            }
            return sum;
        }
    }
}

/// <summary>TCP states as the kernel numbers them in /proc/net/tcp (1..12).</summary>
internal enum TcpState : byte
{
    Unknown = 0,
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
    NewSynRecv = 12,
}

internal struct TcpStateCounts
{
    public const int StateCount = 13;
    private ulong[]? _counts;

    public readonly ulong this[TcpState state] => _counts is null ? 0 : _counts[(int)state];

    public void Add(TcpState state, ulong n = 1)
    {
        _counts ??= new ulong[StateCount];
        _counts[(int)state] += n;
    }

    public void Add(in TcpStateCounts other)
    {
        if (other._counts is null)
        {
            return;
        }
        _counts ??= new ulong[StateCount];
        for (int i = 0; i < StateCount; i++)
        {
            _counts[i] += other._counts[i];
        }
    }

    public void Clear()
    {
        if (_counts is not null)
        {
            Array.Clear(_counts);
        }
    }

    public readonly ulong Total
    {
        get
        {
            ulong sum = 0;
            if (_counts is not null)
            {
                foreach (ulong c in _counts)
                {
                    sum += c;
                }
            }
            return sum;
        }
    }
}

/// <summary>An IP address and port, IPv4 kept as IPv4 (also when seen IPv4-mapped in an IPv6 table).</summary>
/// <remarks>The address is kept as two words, not a UInt128, so the struct is 24 bytes rather than 32:
/// a host's socket table holds two endpoints per socket.</remarks>
internal readonly struct Endpoint : IEquatable<Endpoint>
{
    private readonly ulong _high;
    private readonly ulong _low;

    public Endpoint(UInt128 address, bool isV4, ushort port)
    {
        _high = (ulong)(address >> 64);
        _low = (ulong)address;
        IsV4 = isV4;
        Port = port;
    }

    public UInt128 Address => new(_high, _low);

    public bool IsV4 { get; }

    public ushort Port { get; }

    public IPAddress ToIPAddress()
    {
        if (IsV4)
        {
            uint v = (uint)_low;
            return new IPAddress(new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v });
        }
        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes, _high);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], _low);
        return new IPAddress(bytes);
    }

    public string AddressText => ToIPAddress().ToString();

    public bool Equals(Endpoint other) => _high == other._high && _low == other._low && IsV4 == other.IsV4 && Port == other.Port;

    public override bool Equals(object? obj) => obj is Endpoint other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low, IsV4, Port);

    public static bool operator ==(Endpoint left, Endpoint right) => left.Equals(right);

    public static bool operator !=(Endpoint left, Endpoint right) => !left.Equals(right);

    public override string ToString() => IsV4 ? $"{AddressText}:{Port}" : $"[{AddressText}]:{Port}";
}

/// <summary>One TCP socket as read from a namespace's /proc/net/tcp or tcp6.</summary>
internal readonly record struct TcpSocket(ulong Inode, TcpState State, Endpoint Local, Endpoint Remote);

/// <summary>Where a process sits in the cgroup tree, and what that says about containers and units.</summary>
internal sealed record CgroupDetails(
    string Path,
    string ContainerId,
    string ContainerRuntime,
    string KubernetesPodUid,
    string SystemdUnit)
{
    public static readonly CgroupDetails Empty = new("", "", "", "", "");

    public string ContainerName { get; set; } = "";
    public string KubernetesPodName { get; set; } = "";
    public string KubernetesNamespace { get; set; } = "";
}

/// <summary>Where a service name came from.</summary>
internal enum ServiceSource
{
    Unspecified,
    Rule,
    Kubernetes,
    Container,
    Systemd,
    Executable,
}

/// <summary>
/// One process as the collector last saw it. Records live across collections (keyed by pid and start
/// time), so a process that has not run since the previous collection is not read again in full.
/// </summary>
internal sealed class ProcessRecord
{
    public int Pid { get; init; }
    public ulong StartTicks { get; init; }
    public DateTimeOffset StartTime { get; set; }
    public string Comm { get; set; } = "";
    public string Exe { get; set; } = "";
    public string Cmdline { get; set; } = "";
    public bool CmdlineTruncated { get; set; }
    public uint Uid { get; set; }
    public int Ppid { get; set; }
    public uint Threads { get; set; }
    public CgroupDetails Cgroup { get; set; } = CgroupDetails.Empty;
    internal byte[] CgroupRaw { get; set; } = [];

    public bool FdsReadable { get; set; }
    public ulong OpenFds { get; set; }
    public FdKindCounts Fds;
    public ulong NofileSoft { get; set; }
    public ulong NofileHard { get; set; }
    public ulong NetNamespace { get; set; }

    /// <summary>Inodes of the TCP sockets this process holds (state looked up afresh every collection).</summary>
    internal List<ulong> TcpInodes { get; } = new();

    public TcpStateCounts Tcp;
    public Dictionary<Endpoint, ulong> CloseWaitRemotes { get; } = new();

    public string Service { get; set; } = "";
    public ServiceSource ServiceSource { get; set; }

    // Change detection: the summed run time of all threads and the set of thread ids when last read in full.
    internal ulong RuntimeNs { get; set; }
    internal long ThreadSignature { get; set; }
    internal bool NeedsRescan { get; set; }
    internal uint CollectionRound { get; set; }

    public ulong InotifyInstances => Fds[FdKind.Inotify];

    /// <summary>Open fds as a percentage of the soft limit; 0 when unlimited, unknown or unreadable.</summary>
    public double SoftLimitPercent =>
        FdsReadable && NofileSoft > 0 && NofileSoft != ulong.MaxValue ? 100.0 * OpenFds / NofileSoft : 0;
}

internal sealed record HostInfo(string MachineId, string BootId, string Hostname, string Kernel);

internal sealed class SystemInfo
{
    public ulong FileHandlesAllocated { get; set; }
    public ulong FileHandlesMax { get; set; }
    public ulong NrOpen { get; set; }
    public uint EphemeralLow { get; set; }
    public uint EphemeralHigh { get; set; }
    public ulong EphemeralPortsInUse { get; set; }
    public Endpoint? TopEphemeralRemote { get; set; }
    public ulong TopEphemeralRemotePorts { get; set; }
    public ulong TcpMaxOrphans { get; set; }
    public ulong TcpOrphans { get; set; }
    public ulong TcpTimeWait { get; set; }
    public uint TcpFinTimeoutSeconds { get; set; }
    public int TcpTwReuse { get; set; } = -1;
    public bool ConntrackPresent { get; set; }
    public ulong ConntrackCount { get; set; }
    public ulong ConntrackMax { get; set; }
    public ulong InotifyMaxUserInstances { get; set; }
    public ulong InotifyMaxUserWatches { get; set; }
    public SortedDictionary<uint, ulong> InotifyByUser { get; } = new();

    public uint EphemeralRangeSize => EphemeralHigh >= EphemeralLow && EphemeralHigh > 0 ? EphemeralHigh - EphemeralLow + 1 : 0;
}

internal sealed class NamespaceInfo
{
    public ulong Inode { get; init; }
    public int ReaderPid { get; set; }
    public uint ProcessCount { get; set; }
    public ulong TcpSockets { get; set; }
    public uint MalformedLines { get; set; }
}

internal sealed class CollectionStats
{
    public TimeSpan Cpu { get; set; }
    public TimeSpan Wall { get; set; }
    public ulong ResidentBytes { get; set; }
    public uint ProcessesSeen { get; set; }
    public uint ProcessesUnreadable { get; set; }
    public uint ProcessesVanished { get; set; }
    public uint MalformedLines { get; set; }
    public uint ProcessesRescanned { get; set; }
    public ulong FdsRead { get; set; }
}

/// <summary>
/// Everything one collection saw on the host. The process records are the collector's own and are
/// updated in place by the next Collect(): turn a collection into a snapshot before collecting again.
/// </summary>
internal sealed class HostCollection
{
    public required HostInfo Host { get; init; }
    public DateTimeOffset CollectedAt { get; init; }
    public required IReadOnlyList<ProcessRecord> Processes { get; init; }
    public TcpStateCounts UnownedTcp;
    public required SystemInfo System { get; init; }
    public required IReadOnlyList<NamespaceInfo> Namespaces { get; init; }
    public required CollectionStats Stats { get; init; }
}
