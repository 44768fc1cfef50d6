using Fleet.Contracts.V1;
using Google.Protobuf.WellKnownTypes;

namespace Fleet.Server.Tests.Storage;

/// <summary>Realistic snapshots made with the contract types: processes grouped into services as the agent does.</summary>
internal static class TestSnapshots
{
    private static readonly string[] ServiceNames =
    [
        "nginx", "postgres", "api", "worker", "redis", "systemd-journald", "sshd", "containerd", "kubelet", "node-exporter",
        "cron", "rsyslogd",
    ];

    public static HostIdentity Host(string name) => new()
    {
        MachineId = "machine-" + name,
        BootId = "boot-" + name,
        Hostname = name,
        Kernel = "6.1.0-27-amd64",
        AgentVersion = "1.2.3",
    };

    /// <summary>
    /// A snapshot of <paramref name="processes"/> processes in <paramref name="services"/> services (default 12); about 1 in 20 unreadable; every <paramref name="closeWaitEvery"/>th
    /// readable process holds CLOSE_WAIT sockets to a few remotes (IPv4 and IPv6). Figures vary with the seed.
    /// <paramref name="services"/> beyond the 12 named ones are called service-N.
    /// </summary>
    public static Snapshot Realistic(HostIdentity host, ulong sequence, DateTimeOffset collectedAt, int processes = 300, int seed = 1, int services = 12, int closeWaitEvery = 15)
    {
        var random = new Random(seed);
        var snapshot = new Snapshot
        {
            ContractVersion = 1,
            Host = host,
            Sequence = sequence,
            CollectedAt = Timestamp.FromDateTimeOffset(collectedAt),
            CollectionDuration = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(42.5)),
            UnownedTcp = new TcpStates { TimeWait = (ulong)random.Next(100, 5000), FinWait2 = 3, Close = 1, LastAck = 2, CloseWait = 4 },
            System = new SystemFigures
            {
                FileHandlesAllocated = (ulong)random.Next(5_000, 50_000),
                FileHandlesMax = 9_223_372_036_854_775_807,
                NrOpen = 1_048_576,
                EphemeralPortLow = 32768,
                EphemeralPortHigh = 60999,
                EphemeralPortsInUse = (ulong)random.Next(100, 20_000),
                TopEphemeralRemote = new RemoteEndpointCount { Address = "10.1.2.3", Port = 5432, Count = (ulong)random.Next(10, 900) },
                TcpMaxOrphans = 65536,
                TcpOrphans = (ulong)random.Next(0, 50),
                TcpTimeWait = (ulong)random.Next(100, 5000),
                TcpFinTimeoutSeconds = 60,
                TcpTwReuse = 2,
                ConntrackPresent = true,
                ConntrackCount = (ulong)random.Next(1000, 100_000),
                ConntrackMax = 262_144,
                InotifyMaxUserInstances = 128,
                InotifyMaxUserWatches = 1_048_576,
                InotifyByUser = { new UserInotify { Uid = 0, Instances = 40 }, new UserInotify { Uid = 4_294_967_294, Instances = 3 } },
            },
            AgentCost = new AgentCost
            {
                Cpu = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(31.25)),
                Wall = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(42.5)),
                ResidentBytes = 31_457_280,
                ProcessesSeen = (uint)processes,
                ProcessesUnreadable = 0,
                ProcessesVanished = 2,
                MalformedLines = 1,
                ProcessesRescanned = 17,
                FdsRead = 12_345,
            },
            NetworkNamespaces = { new NetworkNamespace { Inode = 4026531840, ReaderPid = 1, ProcessCount = (uint)processes, TcpSockets = 900 } },
        };
        uint unreadable = 0;
        for (int i = 0; i < processes; i++)
        {
            int k = i % Math.Max(1, services);
            var p = Process(random, i, k < ServiceNames.Length ? ServiceNames[k] : $"service-{k}", closeWaitEvery);
            unreadable += p.FdsReadable ? 0u : 1u;
            snapshot.Processes.Add(p);
        }
        snapshot.AgentCost.ProcessesUnreadable = unreadable;
        snapshot.Services.AddRange(Services(snapshot.Processes));
        return snapshot;
    }

    private static Process Process(Random random, int i, string service, int closeWaitEvery)
    {
        bool readable = i % 20 != 7;
        var p = new Process
        {
            Pid = 1000 + i * 7,
            StartTimeTicks = (ulong)(5_000_000_000L + i * 131),
            StartTime = Timestamp.FromDateTimeOffset(new DateTimeOffset(2030, 3, 1, 0, 0, 0, TimeSpan.Zero)),
            Comm = $"{service}-{i}",
            Exe = $"/usr/bin/{service}",
            Cmdline = $"/usr/bin/{service} --worker {i}",
            Uid = (uint)(i % 3 == 0 ? 0 : 1000),
            Ppid = 1,
            Threads = (uint)random.Next(1, 64),
            Cgroup = new CgroupInfo { Path = $"/system.slice/{service}.service", SystemdUnit = service + ".service" },
            Service = service,
            FdsReadable = readable,
            NofileSoft = i % 4 == 0 ? 1024UL : 65536UL,
            NofileHard = i % 10 == 3 ? ulong.MaxValue : 524288UL,
            NetworkNamespace = 4026531840,
            Tcp = new TcpStates(),
            Fds = new FdCounts(),
        };
        if (!readable)
        {
            return p;
        }
        var f = p.Fds;
        f.RegularFile = (ulong)random.Next(0, 400);
        f.Directory = (ulong)random.Next(0, 5);
        f.Pipe = (ulong)random.Next(0, 20);
        f.Fifo = (ulong)random.Next(0, 2);
        f.SocketTcp = (ulong)random.Next(0, 600);
        f.SocketUdp = (ulong)random.Next(0, 4);
        f.SocketUnix = (ulong)random.Next(0, 30);
        f.SocketNetlink = (ulong)random.Next(0, 2);
        f.SocketOther = (ulong)random.Next(0, 2);
        f.CharDevice = (ulong)random.Next(0, 4);
        f.BlockDevice = 0;
        f.Eventpoll = (ulong)random.Next(0, 8);
        f.Eventfd = (ulong)random.Next(0, 8);
        f.Timerfd = (ulong)random.Next(0, 4);
        f.Signalfd = (ulong)random.Next(0, 2);
        f.Inotify = (ulong)random.Next(0, 3);
        f.AnonInodeOther = (ulong)random.Next(0, 2);
        f.Memfd = (ulong)random.Next(0, 2);
        f.Other = (ulong)random.Next(0, 2);
        p.OpenFds = f.RegularFile + f.Directory + f.Pipe + f.Fifo + f.SocketTcp + f.SocketUdp + f.SocketUnix + f.SocketNetlink
            + f.SocketOther + f.CharDevice + f.BlockDevice + f.Eventpoll + f.Eventfd + f.Timerfd + f.Signalfd + f.Inotify
            + f.AnonInodeOther + f.Memfd + f.Other;
        p.InotifyInstances = (uint)f.Inotify;
        ulong tcp = f.SocketTcp;
        p.Tcp.Listen = Math.Min(tcp, 2);
        tcp -= p.Tcp.Listen;
        if (i % closeWaitEvery == 4)
        {
            p.Tcp.CloseWait = Math.Min(tcp, (ulong)random.Next(1, 60));
            tcp -= p.Tcp.CloseWait;
            ulong left = p.Tcp.CloseWait;
            string[] remotes = ["10.0.0.5", "10.0.0.6", "2001:db8::17"];
            for (int r = 0; r < remotes.Length && left > 0; r++)
            {
                ulong n = r == remotes.Length - 1 ? left : Math.Min(left, (ulong)random.Next(1, 20));
                p.CloseWaitRemotes.Add(new RemoteEndpointCount { Address = remotes[r], Port = (uint)(5432 + r), Count = n });
                left -= n;
            }
        }
        p.Tcp.TimeWait = 0;
        p.Tcp.FinWait1 = Math.Min(tcp, 1);
        tcp -= p.Tcp.FinWait1;
        p.Tcp.Established = tcp;
        return p;
    }

    /// <summary>Aggregates processes per service the way the agent does (sums, the process closest to its soft limit, CLOSE_WAIT remotes).</summary>
    public static IEnumerable<Service> Services(IEnumerable<Process> processes)
    {
        foreach (var group in processes.GroupBy(p => p.Service))
        {
            var s = new Service { Name = group.Key, Source = Service.Types.Source.Systemd, Fds = new FdCounts(), Tcp = new TcpStates() };
            Process? worst = null;
            var remotes = new Dictionary<(string, uint), ulong>();
            foreach (var p in group)
            {
                s.ProcessCount++;
                if (!p.FdsReadable)
                {
                    s.UnreadableProcessCount++;
                    continue;
                }
                s.OpenFds += p.OpenFds;
                s.Fds = Sum(s.Fds, p.Fds);
                s.Tcp = Sum(s.Tcp, p.Tcp);
                foreach (var r in p.CloseWaitRemotes)
                {
                    remotes[(r.Address, r.Port)] = remotes.GetValueOrDefault((r.Address, r.Port)) + r.Count;
                }
                if (worst is null || Percent(p) > Percent(worst) || (Percent(p) == Percent(worst) && p.OpenFds > worst.OpenFds))
                {
                    worst = p;
                }
            }
            if (worst is not null)
            {
                s.WorstPid = worst.Pid;
                s.WorstOpenFds = worst.OpenFds;
                s.WorstNofileSoft = worst.NofileSoft;
                s.WorstNofileHard = worst.NofileHard;
                s.WorstSoftLimitPercent = Percent(worst);
            }
            foreach (var ((address, port), count) in remotes.OrderByDescending(kv => kv.Value))
            {
                s.CloseWaitRemotes.Add(new RemoteEndpointCount { Address = address, Port = port, Count = count });
            }
            yield return s;
        }
    }

    public static double Percent(Process p) => p.NofileSoft is 0 or ulong.MaxValue ? 0 : p.OpenFds * 100.0 / p.NofileSoft;

    private static FdCounts Sum(FdCounts a, FdCounts b) => new()
    {
        RegularFile = a.RegularFile + b.RegularFile,
        Directory = a.Directory + b.Directory,
        Pipe = a.Pipe + b.Pipe,
        Fifo = a.Fifo + b.Fifo,
        SocketTcp = a.SocketTcp + b.SocketTcp,
        SocketUdp = a.SocketUdp + b.SocketUdp,
        SocketUnix = a.SocketUnix + b.SocketUnix,
        SocketNetlink = a.SocketNetlink + b.SocketNetlink,
        SocketOther = a.SocketOther + b.SocketOther,
        CharDevice = a.CharDevice + b.CharDevice,
        BlockDevice = a.BlockDevice + b.BlockDevice,
        Eventpoll = a.Eventpoll + b.Eventpoll,
        Eventfd = a.Eventfd + b.Eventfd,
        Timerfd = a.Timerfd + b.Timerfd,
        Signalfd = a.Signalfd + b.Signalfd,
        Inotify = a.Inotify + b.Inotify,
        AnonInodeOther = a.AnonInodeOther + b.AnonInodeOther,
        Memfd = a.Memfd + b.Memfd,
        Other = a.Other + b.Other,
    };

    private static TcpStates Sum(TcpStates a, TcpStates b) => new()
    {
        Established = a.Established + b.Established,
        SynSent = a.SynSent + b.SynSent,
        SynRecv = a.SynRecv + b.SynRecv,
        FinWait1 = a.FinWait1 + b.FinWait1,
        FinWait2 = a.FinWait2 + b.FinWait2,
        TimeWait = a.TimeWait + b.TimeWait,
        Close = a.Close + b.Close,
        CloseWait = a.CloseWait + b.CloseWait,
        LastAck = a.LastAck + b.LastAck,
        Listen = a.Listen + b.Listen,
        Closing = a.Closing + b.Closing,
        NewSynRecv = a.NewSynRecv + b.NewSynRecv,
    };
}
