using Fleet.Agent.Collection;
using Fleet.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using ContractProcess = Fleet.Contracts.V1.Process;

namespace Fleet.Agent.Snapshots;

/// <summary>Turns one collection (processes already grouped into services) into the contract's Snapshot.</summary>
internal static class SnapshotBuilder
{
    public const uint ContractVersion = 1;

    /// <summary>Remote endpoints kept per process and per service (by count); the totals stay in the TCP states.</summary>
    public const int MaxRemotesPerEntry = 100;

    public static Snapshot Build(HostCollection c, ulong sequence, string agentVersion)
    {
        var identity = new HostIdentity
        {
            MachineId = c.Host.MachineId,
            BootId = c.Host.BootId,
            Hostname = c.Host.Hostname,
            Kernel = c.Host.Kernel,
            AgentVersion = agentVersion,
        };
        var snapshot = new Snapshot
        {
            ContractVersion = ContractVersion,
            Host = identity,
            Sequence = sequence,
            CollectedAt = Timestamp.FromDateTimeOffset(c.CollectedAt),
            CollectionDuration = Duration.FromTimeSpan(c.Stats.Wall),
            UnownedTcp = ToContract(c.UnownedTcp),
            System = ToContract(c.System),
            AgentCost = new AgentCost
            {
                Cpu = Duration.FromTimeSpan(c.Stats.Cpu),
                Wall = Duration.FromTimeSpan(c.Stats.Wall),
                ResidentBytes = c.Stats.ResidentBytes,
                ProcessesSeen = c.Stats.ProcessesSeen,
                ProcessesUnreadable = c.Stats.ProcessesUnreadable,
                ProcessesVanished = c.Stats.ProcessesVanished,
                MalformedLines = c.Stats.MalformedLines,
                ProcessesRescanned = c.Stats.ProcessesRescanned,
                FdsRead = c.Stats.FdsRead,
            },
        };
        foreach (var p in c.Processes)
        {
            snapshot.Processes.Add(ToContract(p));
        }
        snapshot.Services.AddRange(Services(c.Processes));
        foreach (var ns in c.Namespaces)
        {
            snapshot.NetworkNamespaces.Add(new NetworkNamespace
            {
                Inode = ns.Inode,
                ReaderPid = ns.ReaderPid,
                ProcessCount = ns.ProcessCount,
                TcpSockets = ns.TcpSockets,
                MalformedLines = ns.MalformedLines,
            });
        }
        return snapshot;
    }

    /// <summary>Aggregates processes per service; services ordered by how close their worst process is to its soft limit.</summary>
    public static List<Service> Services(IEnumerable<ProcessRecord> processes)
    {
        var byName = new Dictionary<string, (Service Service, ProcessRecord? Worst, Dictionary<Endpoint, ulong> Remotes, FdKindCounts Fds, TcpStateCounts Tcp)>(StringComparer.Ordinal);
        foreach (var p in processes)
        {
            if (!byName.TryGetValue(p.Service, out var entry))
            {
                entry = (new Service { Name = p.Service, Source = (Service.Types.Source)(int)p.ServiceSource }, null, new Dictionary<Endpoint, ulong>(), default, default);
            }
            entry.Service.ProcessCount++;
            if (!p.FdsReadable)
            {
                entry.Service.UnreadableProcessCount++;
                byName[p.Service] = entry;
                continue;
            }
            entry.Service.OpenFds += p.OpenFds;
            entry.Fds.Add(p.Fds);
            entry.Tcp.Add(p.Tcp);
            foreach (var (remote, count) in p.CloseWaitRemotes)
            {
                entry.Remotes.TryGetValue(remote, out ulong c);
                entry.Remotes[remote] = c + count;
            }
            if (entry.Worst is null || IsWorse(p, entry.Worst))
            {
                entry.Worst = p;
            }
            byName[p.Service] = entry;
        }
        var services = new List<Service>(byName.Count);
        foreach (var (service, worst, remotes, fds, tcp) in byName.Values)
        {
            service.Fds = ToContract(fds);
            service.Tcp = ToContract(tcp);
            if (worst is not null)
            {
                service.WorstPid = worst.Pid;
                service.WorstOpenFds = worst.OpenFds;
                service.WorstNofileSoft = worst.NofileSoft;
                service.WorstNofileHard = worst.NofileHard;
                service.WorstSoftLimitPercent = worst.SoftLimitPercent;
            }
            service.CloseWaitRemotes.AddRange(TopRemotes(remotes));
            services.Add(service);
        }
        services.Sort((a, b) =>
        {
            int byPercent = b.WorstSoftLimitPercent.CompareTo(a.WorstSoftLimitPercent);
            return byPercent != 0 ? byPercent : b.OpenFds.CompareTo(a.OpenFds);
        });
        return services;
    }

    private static bool IsWorse(ProcessRecord p, ProcessRecord than)
    {
        int byPercent = p.SoftLimitPercent.CompareTo(than.SoftLimitPercent);
        return byPercent != 0 ? byPercent > 0 : p.OpenFds > than.OpenFds;
    }

    public static ContractProcess ToContract(ProcessRecord p)
    {
        var cp = new ContractProcess
        {
            Pid = p.Pid,
            StartTimeTicks = p.StartTicks,
            Comm = p.Comm,
            Exe = p.Exe,
            Cmdline = p.Cmdline,
            CmdlineTruncated = p.CmdlineTruncated,
            Uid = p.Uid,
            Ppid = p.Ppid,
            Threads = p.Threads,
            Cgroup = new CgroupInfo
            {
                Path = p.Cgroup.Path,
                ContainerId = p.Cgroup.ContainerId,
                ContainerRuntime = p.Cgroup.ContainerRuntime,
                ContainerName = p.Cgroup.ContainerName,
                KubernetesPodUid = p.Cgroup.KubernetesPodUid,
                KubernetesPodName = p.Cgroup.KubernetesPodName,
                KubernetesNamespace = p.Cgroup.KubernetesNamespace,
                SystemdUnit = p.Cgroup.SystemdUnit,
            },
            Service = p.Service,
            FdsReadable = p.FdsReadable,
            OpenFds = p.OpenFds,
            Fds = ToContract(p.Fds),
            NofileSoft = p.NofileSoft,
            NofileHard = p.NofileHard,
            Tcp = ToContract(p.Tcp),
            NetworkNamespace = p.NetNamespace,
            InotifyInstances = (uint)p.InotifyInstances,
        };
        if (p.StartTime != default)
        {
            cp.StartTime = Timestamp.FromDateTimeOffset(p.StartTime);
        }
        cp.CloseWaitRemotes.AddRange(TopRemotes(p.CloseWaitRemotes));
        return cp;
    }

    public static IEnumerable<RemoteEndpointCount> TopRemotes(Dictionary<Endpoint, ulong> remotes)
    {
        var list = new List<KeyValuePair<Endpoint, ulong>>(remotes);
        list.Sort((a, b) => b.Value != a.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key.ToString(), b.Key.ToString()));
        for (int i = 0; i < list.Count && i < MaxRemotesPerEntry; i++)
        {
            yield return ToContract(list[i].Key, list[i].Value);
        }
    }

    public static RemoteEndpointCount ToContract(Endpoint e, ulong count) =>
        new() { Address = e.AddressText, Port = e.Port, Count = count };

    public static FdCounts ToContract(in FdKindCounts f) => new()
    {
        RegularFile = f[FdKind.RegularFile],
        Directory = f[FdKind.Directory],
        Pipe = f[FdKind.Pipe],
        Fifo = f[FdKind.Fifo],
        SocketTcp = f[FdKind.SocketTcp],
        SocketUdp = f[FdKind.SocketUdp],
        SocketUnix = f[FdKind.SocketUnix],
        SocketNetlink = f[FdKind.SocketNetlink],
        SocketOther = f[FdKind.SocketOther],
        CharDevice = f[FdKind.CharDevice],
        BlockDevice = f[FdKind.BlockDevice],
        Eventpoll = f[FdKind.Eventpoll],
        Eventfd = f[FdKind.Eventfd],
        Timerfd = f[FdKind.Timerfd],
        Signalfd = f[FdKind.Signalfd],
        Inotify = f[FdKind.Inotify],
        AnonInodeOther = f[FdKind.AnonInodeOther],
        Memfd = f[FdKind.Memfd],
        Other = f[FdKind.Other],
    };

    public static TcpStates ToContract(in TcpStateCounts t) => new()
    {
        Established = t[TcpState.Established],
        SynSent = t[TcpState.SynSent],
        SynRecv = t[TcpState.SynRecv],
        FinWait1 = t[TcpState.FinWait1],
        FinWait2 = t[TcpState.FinWait2],
        TimeWait = t[TcpState.TimeWait],
        Close = t[TcpState.Close],
        CloseWait = t[TcpState.CloseWait],
        LastAck = t[TcpState.LastAck],
        Listen = t[TcpState.Listen],
        Closing = t[TcpState.Closing],
        NewSynRecv = t[TcpState.NewSynRecv],
    };

    public static SystemFigures ToContract(SystemInfo s)
    {
        var figures = new SystemFigures
        {
            FileHandlesAllocated = s.FileHandlesAllocated,
            FileHandlesMax = s.FileHandlesMax,
            NrOpen = s.NrOpen,
            EphemeralPortLow = s.EphemeralLow,
            EphemeralPortHigh = s.EphemeralHigh,
            EphemeralPortsInUse = s.EphemeralPortsInUse,
            TcpMaxOrphans = s.TcpMaxOrphans,
            TcpOrphans = s.TcpOrphans,
            TcpTimeWait = s.TcpTimeWait,
            TcpFinTimeoutSeconds = s.TcpFinTimeoutSeconds,
            TcpTwReuse = s.TcpTwReuse,
            ConntrackPresent = s.ConntrackPresent,
            ConntrackCount = s.ConntrackCount,
            ConntrackMax = s.ConntrackMax,
            InotifyMaxUserInstances = s.InotifyMaxUserInstances,
            InotifyMaxUserWatches = s.InotifyMaxUserWatches,
        };
        if (s.TopEphemeralRemote is { } top)
        {
            figures.TopEphemeralRemote = ToContract(top, s.TopEphemeralRemotePorts);
        }
        foreach (var (uid, n) in s.InotifyByUser)
        {
            figures.InotifyByUser.Add(new UserInotify { Uid = uid, Instances = n });
        }
        return figures;
    }
}
