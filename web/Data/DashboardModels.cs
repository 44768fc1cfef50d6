namespace Fleet.Web.Data;

/// <summary>A host's status: live (seen within 3 agent intervals), stale (within 15 minutes), offline (longer, or never).</summary>
public enum HostStatus
{
    Live,
    Stale,
    Offline,
}

/// <summary>Fds a process may still open before its soft limit: 0 when over it, the most there is when the limit is unlimited or unknown (0).</summary>
public static class Headroom
{
    public static ulong Fds(ulong openFds, ulong softLimit) =>
        softLimit == 0 ? ulong.MaxValue : softLimit > openFds ? softLimit - openFds : 0;
}

public static class HostStatusRule
{
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(15);

    public static HostStatus Of(DateTimeOffset? lastSeen, DateTimeOffset now, TimeSpan interval) =>
        lastSeen is not { } seen ? HostStatus.Offline
        : now - seen <= 3 * interval ? HostStatus.Live
        : now - seen <= StaleAfter ? HostStatus.Stale
        : HostStatus.Offline;
}

/// <summary>
/// A time window: from/to; <see cref="Live"/> when its end follows now (a relative range such as the last hour),
/// so pages append what arrives. <see cref="RangeKey"/> is the URL form ("15m", "1h", "6h", "24h", "7d", "30d", or
/// "custom" with from/to).
/// </summary>
public sealed record TimeWindow(DateTimeOffset From, DateTimeOffset To, bool Live, string RangeKey)
{
    public TimeSpan Length => To - From;
}

/// <summary>A line on a graph: points in time order; a null value is a gap (no sample in that bucket).</summary>
public sealed record MetricSeries(string Name, IReadOnlyList<MetricPoint> Points);

public readonly record struct MetricPoint(DateTimeOffset Time, double? Value);

/// <summary>A set of lines over one window and what answered them: "raw" samples, "1m" or "1h" rollups.</summary>
public sealed record SeriesSet(string Metric, TimeSpan Step, string Source, IReadOnlyList<MetricSeries> Series);

// ---- Overview ----

public sealed record FleetOverview(IReadOnlyList<HostRow> Hosts, IReadOnlyList<InstanceRisk> AtRisk, TimeSpan AgentInterval);

/// <summary>A host in the overview: its status inputs and its latest figures (zero when it has sent none).</summary>
public sealed record HostRow(
    string Name,
    string MachineId,
    DateTimeOffset? LastSeen,
    string AgentVersion,
    string? WorstService,
    double WorstSoftLimitPercent,
    ulong WorstHeadroomFds,
    ulong OpenFds,
    ulong CloseWaitTotal,
    ulong FileHandlesAllocated,
    ulong FileHandlesMax,
    ulong EphemeralPortsInUse,
    ulong EphemeralPortRange,
    ulong ConntrackCount,
    ulong ConntrackMax,
    int Processes,
    int UnreadableProcesses);

/// <summary>A service instance (a service on one host) with its worst process's fds against that process's limits.</summary>
public sealed record InstanceRisk(
    string Host,
    string Service,
    DateTimeOffset At,
    int Processes,
    ulong OpenFds,
    int WorstPid,
    ulong WorstOpenFds,
    ulong WorstSoftLimit,
    ulong WorstHardLimit,
    double WorstSoftLimitPercent,
    ulong CloseWait)
{
    /// <summary>Fds left before the worst process reaches its soft limit (0 when over it; max when unlimited).</summary>
    public ulong HeadroomFds => Headroom.Fds(WorstOpenFds, WorstSoftLimit);

    /// <summary>The instance's leak projection (the overview's at-risk rows and the service page's instances), or null when none is stored yet.</summary>
    public ProjectionView? Projection { get; init; }
}

// ---- Host page ----

public sealed record HostView(HostDetail Detail, HostSeries Series);

public sealed record HostSeries(
    SeriesSet CloseWaitByService,
    SeriesSet SoftLimitPercentByService,
    SeriesSet OpenFdsByService,
    SeriesSet FileHandles,
    SeriesSet EphemeralPorts,
    SeriesSet TcpOrphans,
    SeriesSet Conntrack);

public sealed record HostDetail(
    string Name,
    string MachineId,
    string Kernel,
    string AgentVersion,
    DateTimeOffset? LastSeen,
    DateTimeOffset CollectedAt,
    ulong Sequence,
    TimeSpan AgentInterval,
    IReadOnlyList<ServiceRow> Services,
    IReadOnlyList<ProcessRow> Processes,
    int ProcessesSeen,
    IReadOnlyList<CloseWaitRemoteRow> CloseWaitRemotes,
    TcpStateCounts UnownedTcp,
    SystemHeadroom System,
    AgentCostView AgentCost,
    IReadOnlyList<UnreadableProcess> Unreadable);

public sealed record ServiceRow(
    string Name,
    string Source,
    int Processes,
    int UnreadableProcesses,
    ulong OpenFds,
    int WorstPid,
    ulong WorstOpenFds,
    ulong WorstSoftLimit,
    ulong WorstHardLimit,
    double WorstSoftLimitPercent,
    TcpStateCounts Tcp)
{
    public ulong HeadroomFds => Headroom.Fds(WorstOpenFds, WorstSoftLimit);

    /// <summary>The instance's leak projection (filled by the host page's read, HostAsync), or null when none is stored yet.</summary>
    public ProjectionView? Projection { get; init; }
}

/// <summary>Fds by main type (pipe = pipe + fifo; socket other = netlink and the rest; anon inode = epoll, eventfd, timerfd, signalfd, inotify...; other = devices, memfd...).</summary>
public sealed record FdBreakdown(ulong RegularFile, ulong Directory, ulong Pipe, ulong SocketTcp, ulong SocketUdp, ulong SocketUnix, ulong SocketOther, ulong AnonInode, ulong Other);

public sealed record TcpStateCounts(
    ulong Established, ulong SynSent, ulong SynRecv, ulong FinWait1, ulong FinWait2, ulong TimeWait,
    ulong Close, ulong CloseWait, ulong LastAck, ulong Listen, ulong Closing, ulong NewSynRecv)
{
    public static TcpStateCounts Zero { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    public ulong Total => Established + SynSent + SynRecv + FinWait1 + FinWait2 + TimeWait + Close + CloseWait + LastAck + Listen + Closing + NewSynRecv;
}

public sealed record ProcessRow(
    int Pid,
    string Comm,
    string Service,
    string CommandLine,
    DateTimeOffset? StartTime,
    ulong OpenFds,
    FdBreakdown Fds,
    ulong SoftLimit,
    ulong HardLimit,
    double SoftLimitPercent,
    TcpStateCounts Tcp);

/// <summary>CLOSE_WAIT sockets toward one remote endpoint from one service now, and the change since the window's start.</summary>
public sealed record CloseWaitRemoteRow(string Remote, string Service, ulong Count, long ChangeOverWindow);

public sealed record SystemHeadroom(
    ulong FileHandlesAllocated,
    ulong FileHandlesMax,
    ulong NrOpen,
    uint EphemeralPortLow,
    uint EphemeralPortHigh,
    ulong EphemeralPortsInUse,
    string? TopEphemeralRemote,
    ulong TopEphemeralCount,
    ulong TcpOrphans,
    ulong TcpMaxOrphans,
    ulong TcpTimeWait,
    uint TcpFinTimeoutSeconds,
    int TcpTwReuse,
    bool ConntrackPresent,
    ulong ConntrackCount,
    ulong ConntrackMax,
    ulong InotifyMaxUserInstances,
    ulong InotifyMaxUserWatches,
    IReadOnlyList<UserInotify> InotifyByUser)
{
    public ulong EphemeralPortRange => EphemeralPortHigh >= EphemeralPortLow && EphemeralPortHigh > 0 ? EphemeralPortHigh - EphemeralPortLow + 1UL : 0;
}

public sealed record UserInotify(uint Uid, ulong Instances);

public sealed record AgentCostView(
    TimeSpan CollectionDuration,
    TimeSpan Cpu,
    TimeSpan Wall,
    ulong ResidentBytes,
    int ProcessesSeen,
    int ProcessesUnreadable,
    int ProcessesVanished,
    int MalformedLines,
    int ProcessesRescanned,
    ulong FdsRead,
    int NetworkNamespaces);

public sealed record UnreadableProcess(int Pid, string Comm, string Service);

// ---- Service page ----

public sealed record ServiceView(
    string Name,
    IReadOnlyList<InstanceRow> Instances,
    SeriesSet OpenFdsByInstance,
    SeriesSet SoftLimitPercentByInstance,
    SeriesSet CloseWaitByInstance);

/// <summary>One instance of the service: its host's status inputs and the instance's latest figures.</summary>
public sealed record InstanceRow(string Host, DateTimeOffset? LastSeen, TimeSpan AgentInterval, InstanceRisk Latest);

// ---- Live push ----

/// <summary>The summary of one stored snapshot, as published on the live feed and the SignalR hub.</summary>
public sealed record LiveSnapshot(LiveHost Host, IReadOnlyList<LiveService> Services);

public sealed record LiveHost(
    string Name,
    string MachineId,
    ulong Sequence,
    DateTimeOffset CollectedAt,
    DateTimeOffset StoredAt,
    string AgentVersion,
    int Processes,
    int UnreadableProcesses,
    ulong OpenFds,
    ulong CloseWait,
    string? WorstService,
    double WorstSoftLimitPercent,
    ulong WorstHeadroomFds,
    ulong FileHandlesAllocated,
    ulong FileHandlesMax,
    ulong EphemeralPortsInUse,
    ulong EphemeralPortRange,
    ulong TcpOrphans,
    ulong TcpMaxOrphans,
    ulong ConntrackCount,
    ulong ConntrackMax);

public sealed record LiveService(
    string Name,
    int Processes,
    ulong OpenFds,
    int WorstPid,
    ulong WorstOpenFds,
    ulong WorstSoftLimit,
    ulong WorstHardLimit,
    double WorstSoftLimitPercent,
    ulong CloseWait,
    ulong Established,
    IReadOnlyList<LiveRemote> CloseWaitRemotes);

public sealed record LiveRemote(string Remote, ulong Count);

/// <summary>Names shared by the series the server answers and the lines pages grow from live summaries.</summary>
public static class SeriesNames
{
    /// <summary>The CLOSE_WAIT line of sockets no process owns (a host's total is its services' plus this).</summary>
    public const string Unowned = "(no process)";
}
