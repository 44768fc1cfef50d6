using System.Net;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Fleet.Server.Live;
using Fleet.Server.Storage.Queries;
using Fleet.Web.Data;
using Google.Protobuf.WellKnownTypes;
using Npgsql;

namespace Fleet.Server.Dashboard;

/// <summary>What the host page shows of a host's latest snapshot (pure functions of the snapshot and a few stored figures).</summary>
internal static class HostDetails
{
    /// <summary>The host as stored: its row in hosts (latest snapshot parsed) and the agent interval.</summary>
    public sealed record StoredHost(int Id, string Name, string MachineId, string Kernel, string AgentVersion, DateTimeOffset LastSeen, Snapshot Latest, TimeSpan AgentInterval)
    {
        /// <summary>
        /// A row of id, hostname, machine_id, kernel, agent_version, last_seen, latest_snapshot (not null) and the
        /// stored agent setting (text, may be null), in that order.
        /// </summary>
        public static StoredHost Read(NpgsqlDataReader reader, AgentConfigPublisher? agentConfig)
        {
            ArgumentNullException.ThrowIfNull(reader);
            return new StoredHost(
                reader.GetInt32(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5),
                Snapshot.Parser.ParseFrom(reader.GetFieldValue<byte[]>(6)),
                AgentSetting.Interval(agentConfig, reader.IsDBNull(7) ? null : reader.GetString(7)));
        }
    }

    public static HostDetail Map(StoredHost host, IReadOnlyDictionary<(string Remote, string Service), ulong>? countsAtStart)
    {
        var s = host.Latest;
        var services = s.Services
            .Select(Service)
            .OrderBy(r => r.Name, StringComparer.Ordinal)
            .ToList();
        var processes = s.Processes
            .Where(p => p.FdsReadable)
            .Select(Process)
            .OrderByDescending(p => p.OpenFds).ThenBy(p => p.Pid)
            .ToList();
        var unreadable = s.Processes
            .Where(p => !p.FdsReadable)
            .Select(p => new UnreadableProcess(p.Pid, p.Comm, p.Service))
            .OrderBy(p => p.Pid)
            .ToList();
        return new HostDetail(
            host.Name,
            host.MachineId,
            host.Kernel,
            host.AgentVersion,
            host.LastSeen,
            Time(s.CollectedAt) ?? host.LastSeen,
            s.Sequence,
            host.AgentInterval,
            services,
            processes,
            Int(s.AgentCost?.ProcessesSeen ?? (uint)s.Processes.Count),
            CloseWaitRemotes(s, countsAtStart),
            Tcp(s.UnownedTcp),
            System(s.System ?? new SystemFigures()),
            Cost(s),
            unreadable);
    }

    /// <summary>
    /// CLOSE_WAIT sockets per (remote, service) now, from the services of the latest snapshot, and the change since
    /// the window's start: <paramref name="countsAtStart"/> holds the counts then (a pair missing had none); null
    /// when no sample was taken in the window, so nothing changed in it.
    /// </summary>
    public static List<CloseWaitRemoteRow> CloseWaitRemotes(Snapshot snapshot, IReadOnlyDictionary<(string Remote, string Service), ulong>? countsAtStart)
    {
        var now = new Dictionary<(string Remote, string Service), ulong>();
        foreach (var service in snapshot.Services)
        {
            foreach (var r in service.CloseWaitRemotes)
            {
                var key = (Remote(r.Address, r.Port), service.Name);
                now[key] = now.GetValueOrDefault(key) + r.Count;
            }
        }
        return [.. now
            .Select(kv =>
            {
                ulong start = countsAtStart is null ? kv.Value : countsAtStart.GetValueOrDefault(kv.Key);
                return new CloseWaitRemoteRow(kv.Key.Remote, kv.Key.Service, kv.Value, Change(kv.Value, start));
            })
            .OrderByDescending(r => r.Count)
            .ThenBy(r => r.Remote, StringComparer.Ordinal)
            .ThenBy(r => r.Service, StringComparer.Ordinal)];
    }

    /// <summary>"10.0.3.7:443", "[2001:db8::1]:443": the address in its canonical text (an IPv4-mapped one as IPv4), so stored and reported remotes match.</summary>
    public static string Remote(string address, uint port) =>
        IPAddress.TryParse(address, out var ip) ? Remote(ip, port) : LiveSummaries.Endpoint(address, port);

    public static string Remote(IPAddress address, uint port)
    {
        ArgumentNullException.ThrowIfNull(address);
        return LiveSummaries.Endpoint((address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString(), port);
    }

    public static ServiceRow Service(Service s) => new(
        s.Name,
        SourceName(s.Source),
        Int(s.ProcessCount),
        Int(s.UnreadableProcessCount),
        s.OpenFds,
        s.WorstPid,
        s.WorstOpenFds,
        s.WorstNofileSoft,
        s.WorstNofileHard,
        s.WorstSoftLimitPercent,
        Tcp(s.Tcp));

    public static ProcessRow Process(Process p) => new(
        p.Pid,
        p.Comm,
        p.Service,
        p.CmdlineTruncated ? p.Cmdline + "…" : p.Cmdline,
        Time(p.StartTime),
        p.OpenFds,
        Fds(p.Fds ?? new FdCounts()),
        p.NofileSoft,
        p.NofileHard,
        Storage.Series.SnapshotFigures.SoftLimitPercent(p),
        Tcp(p.Tcp));

    /// <summary>Fds by main type: pipe = pipe + fifo; socket other = netlink + other; anon inode = eventpoll, eventfd, timerfd, signalfd, inotify and other anon inodes; other = devices, memfd and the rest.</summary>
    public static FdBreakdown Fds(FdCounts f) => new(
        f.RegularFile,
        f.Directory,
        f.Pipe + f.Fifo,
        f.SocketTcp,
        f.SocketUdp,
        f.SocketUnix,
        f.SocketNetlink + f.SocketOther,
        f.Eventpoll + f.Eventfd + f.Timerfd + f.Signalfd + f.Inotify + f.AnonInodeOther,
        f.CharDevice + f.BlockDevice + f.Memfd + f.Other);

    public static TcpStateCounts Tcp(TcpStates? t) => t is null ? TcpStateCounts.Zero : new(
        t.Established, t.SynSent, t.SynRecv, t.FinWait1, t.FinWait2, t.TimeWait,
        t.Close, t.CloseWait, t.LastAck, t.Listen, t.Closing, t.NewSynRecv);

    public static SystemHeadroom System(SystemFigures f) => new(
        f.FileHandlesAllocated,
        f.FileHandlesMax,
        f.NrOpen,
        f.EphemeralPortLow,
        f.EphemeralPortHigh,
        f.EphemeralPortsInUse,
        f.TopEphemeralRemote is { } top ? Remote(top.Address, top.Port) : null,
        f.TopEphemeralRemote?.Count ?? 0,
        f.TcpOrphans,
        f.TcpMaxOrphans,
        f.TcpTimeWait,
        f.TcpFinTimeoutSeconds,
        f.TcpTwReuse,
        f.ConntrackPresent,
        f.ConntrackCount,
        f.ConntrackMax,
        f.InotifyMaxUserInstances,
        f.InotifyMaxUserWatches,
        [.. f.InotifyByUser.Select(u => new Web.Data.UserInotify(u.Uid, u.Instances))]);

    public static AgentCostView Cost(Snapshot s)
    {
        var c = s.AgentCost ?? new AgentCost();
        return new AgentCostView(
            Span(s.CollectionDuration),
            Span(c.Cpu),
            Span(c.Wall),
            c.ResidentBytes,
            Int(c.ProcessesSeen),
            Int(c.ProcessesUnreadable),
            Int(c.ProcessesVanished),
            Int(c.MalformedLines),
            Int(c.ProcessesRescanned),
            c.FdsRead,
            s.NetworkNamespaces.Count);
    }

    /// <summary>"systemd", "kubernetes", ... (the contract's enum without its prefix, lower case).</summary>
    public static string SourceName(Service.Types.Source source) => source switch
    {
        Contracts.V1.Service.Types.Source.Rule => "rule",
        Contracts.V1.Service.Types.Source.Kubernetes => "kubernetes",
        Contracts.V1.Service.Types.Source.Container => "container",
        Contracts.V1.Service.Types.Source.Systemd => "systemd",
        Contracts.V1.Service.Types.Source.Executable => "executable",
        _ => "unspecified",
    };

    private static long Change(ulong now, ulong start) =>
        (long)Math.Min(now, long.MaxValue) - (long)Math.Min(start, long.MaxValue);

    private static int Int(uint value) => value > int.MaxValue ? int.MaxValue : (int)value;

    /// <summary>A duration as sent (no exception for one out of range: the agent's figures are shown, not trusted).</summary>
    private static TimeSpan Span(Duration? d) =>
        d is null ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Clamp(d.Seconds, -100_000_000L, 100_000_000L) * TimeSpan.TicksPerSecond + d.Nanos / 100);

    /// <summary>A timestamp as sent; null when absent or not a valid timestamp.</summary>
    public static DateTimeOffset? Time(Timestamp? t) =>
        t is not null && t.Seconds is >= -62_135_596_800L and <= 253_402_300_799L && t.Nanos is >= 0 and < 1_000_000_000
            ? t.ToDateTimeOffset()
            : null;
}
