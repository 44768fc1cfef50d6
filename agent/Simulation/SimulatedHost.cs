using System.Globalization;
using Fleet.Agent.Collection;
using Fleet.Agent.Grouping;
using Fleet.Agent.Snapshots;
using Fleet.Agent.Streaming;
using Fleet.Contracts.V1;

namespace Fleet.Agent.Simulation;

/// <summary>
/// A made-up Linux host whose file descriptors and sockets move over simulated time: ~8-15 services
/// (system ones and applications such as nginx, java, postgres, node, redis, envoy, python) with ~50-300
/// processes, each service steady, following a daily load cycle, leaking slowly or fast, piling up
/// CLOSE_WAIT toward 10.0.3.7:443, or restarted now and then (new pids and start times, fds back to their
/// base); some with the 1024 soft limit; hosts differ in their sysctls (file-max, ip_local_port_range,
/// nf_conntrack_max, tcp_fin_timeout, ...). Everything follows from (seed, index): the same seed gives the
/// same fleet. A snapshot is a function of the simulated time elapsed since <see cref="StartedAt"/>, which
/// runs <see cref="Speed"/> times faster than real time; snapshots carry the real time they were taken at.
/// Snapshots go through the agent's own grouping and snapshot builder, so they look like a real agent's.
/// Not thread-safe: one caller per host.
/// </summary>
public sealed class SimulatedHost
{
    private const double Hour = 3600;
    private const ulong KernelBaseHandles = 2000;

    private readonly List<ServicePlan> _services = new();
    private readonly List<ProcessPlan> _processes = new();
    private readonly HostPlan _host;
    private readonly ulong _hash;
    private ServiceGrouper _grouper = new();

    /// <param name="seed">The fleet's seed.</param>
    /// <param name="index">This host's number in the fleet, from 1 (sim-host-001).</param>
    /// <param name="startedAt">The real time at which simulated time is zero.</param>
    /// <param name="speed">How many times faster than real time the simulated time runs.</param>
    public SimulatedHost(int seed, int index, DateTimeOffset startedAt, double speed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        if (!(speed > 0) || double.IsInfinity(speed))
        {
            throw new ArgumentOutOfRangeException(nameof(speed), speed, "the speed must be a positive number");
        }
        Seed = seed;
        Index = index;
        StartedAt = startedAt;
        Speed = speed;
        _hash = SimRandom.Hash((ulong)(uint)seed, (ulong)index, 0x5EED);
        var random = new SimRandom(_hash);
        Hostname = string.Create(CultureInfo.InvariantCulture, $"sim-host-{index:D3}");
        MachineId = Hex(SimRandom.Hash(_hash, 1)) + Hex(SimRandom.Hash(_hash, 2));
        _host = PlanHost(ref random);
        PlanServices(ref random);
        var services = new List<SimulatedService>(_services.Count);
        foreach (var s in _services)
        {
            services.Add(s.Public);
        }
        Services = services;
    }

    public int Seed { get; }

    public int Index { get; }

    public string Hostname { get; }

    public string MachineId { get; }

    public DateTimeOffset StartedAt { get; }

    public double Speed { get; }

    /// <summary>The services this host runs, as planned (names as the default grouping gives them).</summary>
    public IReadOnlyList<SimulatedService> Services { get; }

    /// <summary>How much simulated time has passed at <paramref name="now"/> (never negative).</summary>
    public TimeSpan SimulatedElapsed(DateTimeOffset now)
    {
        double seconds = Math.Max(0, (now - StartedAt).TotalSeconds * Speed);
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Replaces the grouping rules, as a configuration from the server does for a real agent.</summary>
    public void SetGroupingRules(IEnumerable<GroupingRule> rules) => _grouper = new ServiceGrouper(rules);

    /// <summary>The snapshot this host's agent would take at real time <paramref name="now"/> (sequence 0: the spool numbers it).</summary>
    public Snapshot Next(DateTimeOffset now)
    {
        var collection = Collect(now);
        _grouper.Assign(collection.Processes);
        return SnapshotBuilder.Build(collection, sequence: 0, AgentVersion.Current);
    }

    internal HostCollection Collect(DateTimeOffset now)
    {
        double t = SimulatedElapsed(now).TotalSeconds;
        double hostLoad = DayLoad(t);
        var processes = new List<ProcessRecord>(_processes.Count);
        var outbound = new Dictionary<Endpoint, ulong>();
        var inotifyByUser = new SortedDictionary<uint, ulong>();
        var namespaces = new Dictionary<ulong, NamespaceInfo>();
        ulong totalFds = 0;
        ulong established = 0;
        foreach (var p in _processes)
        {
            var record = Process(p, t, out ulong outboundSockets, out ulong closeWait);
            processes.Add(record);
            totalFds += record.OpenFds;
            established += record.Tcp[TcpState.Established];
            if (p.Upstream is { } upstream && outboundSockets > 0)
            {
                outbound.TryGetValue(upstream, out ulong n);
                outbound[upstream] = n + outboundSockets;
            }
            if (closeWait > 0)
            {
                outbound.TryGetValue(p.Service.CloseWaitRemote, out ulong n);
                outbound[p.Service.CloseWaitRemote] = n + closeWait;
            }
            if (record.InotifyInstances > 0)
            {
                inotifyByUser.TryGetValue(record.Uid, out ulong n);
                inotifyByUser[record.Uid] = n + record.InotifyInstances;
            }
            if (!namespaces.TryGetValue(p.NetNamespace, out var ns))
            {
                ns = new NamespaceInfo { Inode = p.NetNamespace, ReaderPid = record.Pid };
                namespaces[p.NetNamespace] = ns;
            }
            ns.ProcessCount++;
            ns.TcpSockets += record.Tcp.Total;
        }

        ulong minute = (ulong)Math.Max(0, t / 60);
        double noise = SimRandom.Signed(SimRandom.Hash(_hash, minute, 0xE1));
        ulong timeWait = (ulong)(_host.TimeWaitBase * (0.15 + 0.85 * hostLoad) * (1 + 0.1 * noise));
        var unowned = new TcpStateCounts();
        unowned.Add(TcpState.TimeWait, timeWait);
        unowned.Add(TcpState.FinWait2, (ulong)(timeWait / 40));
        ulong outboundTotal = 0;
        Endpoint? top = null;
        ulong topCount = 0;
        foreach (var (remote, count) in outbound)
        {
            outboundTotal += count;
            if (count > topCount || (count == topCount && top is { } t0 && string.CompareOrdinal(remote.ToString(), t0.ToString()) < 0))
            {
                top = remote;
                topCount = count;
            }
        }
        var system = new SystemInfo
        {
            FileHandlesAllocated = totalFds + KernelBaseHandles + _host.ExtraHandles + (ulong)(200 * (1 + noise)),
            FileHandlesMax = _host.FileMax,
            NrOpen = _host.NrOpen,
            EphemeralLow = _host.PortLow,
            EphemeralHigh = _host.PortHigh,
            EphemeralPortsInUse = outboundTotal + timeWait / 2,
            TopEphemeralRemote = top,
            TopEphemeralRemotePorts = topCount,
            TcpMaxOrphans = _host.MaxOrphans,
            TcpOrphans = (ulong)(8 * (1 + noise)),
            TcpTimeWait = timeWait,
            TcpFinTimeoutSeconds = _host.FinTimeout,
            TcpTwReuse = _host.TwReuse,
            ConntrackPresent = _host.ConntrackMax > 0,
            ConntrackCount = _host.ConntrackMax > 0 ? Math.Min(_host.ConntrackMax, (ulong)((established + timeWait) * 1.3) + 40) : 0,
            ConntrackMax = _host.ConntrackMax,
            InotifyMaxUserInstances = _host.InotifyInstances,
            InotifyMaxUserWatches = _host.InotifyWatches,
        };
        foreach (var (uid, n) in inotifyByUser)
        {
            system.InotifyByUser[uid] = n;
        }
        return new HostCollection
        {
            Host = new HostInfo(MachineId, _host.BootId, Hostname, _host.Kernel),
            CollectedAt = now,
            Processes = processes,
            UnownedTcp = unowned,
            System = system,
            Namespaces = [.. namespaces.Values],
            Stats = new CollectionStats
            {
                Wall = TimeSpan.FromMilliseconds(4 + processes.Count * 0.05),
                Cpu = TimeSpan.FromMilliseconds(3 + processes.Count * 0.04),
                ResidentBytes = 9UL * 1024 * 1024 + (ulong)processes.Count * 4096,
                ProcessesSeen = (uint)processes.Count,
                ProcessesRescanned = (uint)(processes.Count / 8),
                FdsRead = totalFds,
            },
        };
    }

    private ProcessRecord Process(ProcessPlan p, double t, out ulong outboundSockets, out ulong closeWaitSockets)
    {
        var s = p.Service;
        var (generation, since) = s.Generation(t);
        double age = t - since;
        double warm = 1 - Math.Exp(-age / 600);
        double load = s.Public.Behaviour == SimulatedBehaviour.DailyCycle ? 0.2 + 0.8 * DayLoad(t + s.PhaseShift) : 1;
        ulong minute = (ulong)Math.Max(0, t / 60);
        double noise = SimRandom.Signed(SimRandom.Hash(_hash, (ulong)p.Slot, minute));
        double dynamic = p.FullLoadFds * load * warm * (1 + 0.04 * noise);
        ulong dyn = (ulong)Math.Max(0, dynamic);

        var tcp = new TcpStateCounts();
        ulong listen = p.Listens ? 2UL : 0UL;
        ulong fixedFds = 3 + 1 + (p.Threads > 1 ? 1UL : 0) + (p.Inotify ? 1UL : 0);
        // A process can hold no more than its soft limit: beyond it, open() fails with EMFILE.
        ulong overhead = fixedFds + listen + 2;
        ulong soft = s.Public.NofileSoft;
        if (overhead + dyn > soft)
        {
            dyn = soft > overhead ? soft - overhead : 0;
        }
        ulong est = (ulong)(dyn * p.TcpShare);
        ulong outbound = p.Upstream is null ? 0 : est * 2 / 5;
        ulong rest = dyn - est;
        ulong regular = rest * 7 / 10;
        ulong unix = rest * 15 / 100;
        ulong pipe = rest - regular - unix;
        ulong baseTotal = overhead + est + regular + unix + pipe;

        // Leaks and CLOSE_WAIT grow with the age of the process, until the soft limit stops them (EMFILE).
        ulong room = soft > baseTotal ? soft - baseTotal : 0;
        ulong closeWait = 0;
        ulong fastLeak = 0;
        ulong slowLeak = 0;
        if (p.Leaks)
        {
            double grown = s.RatePerHour * age / Hour;
            ulong amount = Math.Min(room, (ulong)Math.Max(0, grown));
            switch (s.Public.Behaviour)
            {
                case SimulatedBehaviour.CloseWaitBuildup:
                    closeWait = amount;
                    break;
                case SimulatedBehaviour.FastLeak:
                    fastLeak = amount;
                    break;
                case SimulatedBehaviour.SlowLeak:
                    slowLeak = amount;
                    break;
            }
        }

        var record = new ProcessRecord
        {
            Pid = p.Pid(generation),
            StartTicks = StartTicks(since + p.StartOffset),
            StartTime = RealTime(since + p.StartOffset),
            Comm = p.Comm,
            Exe = p.Exe,
            Cmdline = p.Cmdline,
            Uid = p.Uid,
            Ppid = p.ParentSlot is { } parent ? _processes[parent].Pid(generation) : p.PidBase == 0 ? 0 : 1,
            Threads = p.Threads,
            Cgroup = p.Cgroup,
            FdsReadable = true,
            NofileSoft = s.Public.NofileSoft,
            NofileHard = s.Public.NofileHard,
            NetNamespace = p.NetNamespace,
        };
        tcp.Add(TcpState.Listen, listen);
        tcp.Add(TcpState.Established, est);
        tcp.Add(TcpState.CloseWait, closeWait);
        record.Tcp = tcp;
        if (closeWait > 0)
        {
            record.CloseWaitRemotes[s.CloseWaitRemote] = closeWait;
        }
        record.Fds.Add(FdKind.CharDevice, 3);
        record.Fds.Add(FdKind.Eventpoll, 1);
        if (p.Threads > 1)
        {
            record.Fds.Add(FdKind.Eventfd, 1);
        }
        if (p.Inotify)
        {
            record.Fds.Add(FdKind.Inotify, 1);
        }
        record.Fds.Add(FdKind.SocketTcp, listen + est + closeWait);
        record.Fds.Add(FdKind.SocketUnix, unix + 1);
        record.Fds.Add(FdKind.Pipe, pipe + 1 + fastLeak);
        record.Fds.Add(FdKind.RegularFile, regular + slowLeak);
        record.OpenFds = record.Fds.Total;
        outboundSockets = outbound;
        closeWaitSockets = closeWait;
        return record;
    }

    /// <summary>The day's load in [0, 1]: low at 03:00, high at 15:00 of the simulated clock (UTC).</summary>
    private double DayLoad(double t)
    {
        double clock = (StartedAt.ToUnixTimeSeconds() + t) % 86400;
        return 0.5 + 0.5 * Math.Sin(2 * Math.PI * (clock / 86400 - 0.375));
    }

    private DateTimeOffset RealTime(double simulatedSeconds) => StartedAt + TimeSpan.FromSeconds(simulatedSeconds / Speed);

    private ulong StartTicks(double simulatedSeconds) =>
        (ulong)Math.Max(1, (RealTime(simulatedSeconds) - _host.BootTime).TotalSeconds * 100);

    private HostPlan PlanHost(ref SimRandom random)
    {
        double uptime = random.Between(40, 120) * 24 * Hour;
        (uint low, uint high) = random.Pick<(uint, uint)>([(32768, 60999), (32768, 60999), (1024, 65535), (15000, 64000), (10000, 65000)]);
        return new HostPlan
        {
            BootId = new Guid(BitConverter.GetBytes(SimRandom.Hash(_hash, 3)).Concat(BitConverter.GetBytes(SimRandom.Hash(_hash, 4))).ToArray()).ToString("D"),
            Kernel = random.Pick(ServiceCatalog.Kernels),
            Uptime = uptime,
            BootTime = StartedAt - TimeSpan.FromSeconds(uptime / Speed),
            FileMax = random.Pick<ulong>([9223372036854775807, 9223372036854775807, 1048576, 2097152, 3255123, 6553600, 65536]),
            NrOpen = random.Pick<ulong>([1048576, 1048576, 1073741816]),
            PortLow = low,
            PortHigh = high,
            ConntrackMax = random.Pick<ulong>([0, 65536, 131072, 262144, 524288]),
            FinTimeout = random.Pick<uint>([60, 60, 30, 15, 10]),
            TwReuse = random.Pick([2, 2, 1, 0]),
            MaxOrphans = random.Pick<ulong>([8192, 65536, 131072, 262144]),
            InotifyInstances = random.Pick<ulong>([128, 128, 512, 8192]),
            InotifyWatches = random.Pick<ulong>([8192, 65536, 524288, 1048576]),
            TimeWaitBase = random.Between(50, 2500),
            ExtraHandles = (ulong)random.Next(500, 4000),
        };
    }

    private void PlanServices(ref SimRandom random)
    {
        // Applications: 2-6, at least one with a pool of workers (postgres, celery, php-fpm) so that the
        // host has a realistic number of processes.
        var apps = new List<ServiceTemplate>();
        var catalog = ServiceCatalog.Applications.ToList();
        var pools = catalog.Where(a => a.Pool).ToList();
        apps.Add(random.Pick(pools));
        int wanted = random.Next(2, 7);
        while (apps.Count < wanted)
        {
            var candidate = random.Pick(catalog);
            if (!apps.Contains(candidate))
            {
                apps.Add(candidate);
            }
        }
        var templates = new List<ServiceTemplate>(ServiceCatalog.System);
        bool docker = apps.Any(a => a.Placement == Placement.Docker);
        bool kubernetes = apps.Any(a => a.Placement == Placement.Kubernetes);
        if (docker || kubernetes)
        {
            templates.Add(ServiceCatalog.Containerd);
        }
        if (docker)
        {
            templates.Add(ServiceCatalog.Dockerd);
        }
        if (kubernetes)
        {
            templates.Add(ServiceCatalog.Kubelet);
        }
        int firstApp = templates.Count;
        templates.AddRange(apps);

        // Behaviours: a leak or a CLOSE_WAIT pile-up on some hosts, a daily cycle on front-facing services.
        var behaviours = new SimulatedBehaviour[templates.Count];
        for (int i = firstApp; i < templates.Count; i++)
        {
            behaviours[i] = templates[i].FrontFacing && random.Chance(0.7) ? SimulatedBehaviour.DailyCycle : SimulatedBehaviour.Steady;
        }
        var unassigned = Enumerable.Range(firstApp, templates.Count - firstApp).ToList();
        void Assign(ref SimRandom r, SimulatedBehaviour behaviour, double chance, Func<ServiceTemplate, bool> fits)
        {
            var candidates = unassigned.Where(i => fits(templates[i])).ToList();
            if (candidates.Count > 0 && r.Chance(chance))
            {
                int chosen = r.Pick(candidates);
                behaviours[chosen] = behaviour;
                unassigned.Remove(chosen);
            }
        }
        Assign(ref random, SimulatedBehaviour.CloseWaitBuildup, 0.4, t => t.Upstream == ServiceCatalog.CloseWaitRemote);
        Assign(ref random, SimulatedBehaviour.FastLeak, 0.35, _ => true);
        Assign(ref random, SimulatedBehaviour.SlowLeak, 0.5, _ => true);

        int processTarget = random.Next(50, 281);
        var counts = new int[templates.Count];
        int total = 0;
        for (int i = 0; i < templates.Count; i++)
        {
            var template = templates[i];
            counts[i] = 1 + random.Next(template.WorkersMin, template.WorkersMax + 1) + (template.Sidecar ? 1 : 0);
            total += counts[i];
        }
        // Grow or shrink the worker pools toward the host's process count.
        for (int i = 0; i < templates.Count && total != processTarget; i++)
        {
            var template = templates[i];
            if (!template.Pool)
            {
                continue;
            }
            int min = 1 + template.WorkersMin;
            int next = Math.Max(min, counts[i] + processTarget - total);
            total += next - counts[i];
            counts[i] = next;
        }

        ulong hostNamespace = 4026531840UL + (ulong)random.Next(0, 200);
        for (int i = 0; i < templates.Count; i++)
        {
            var template = templates[i];
            var behaviour = i >= firstApp ? behaviours[i] : SimulatedBehaviour.Steady;
            (ulong soft, ulong hard) = Limits(ref random, template, i < firstApp);
            double rate = behaviour switch
            {
                SimulatedBehaviour.SlowLeak => random.Between(2, 6),
                SimulatedBehaviour.FastLeak => random.Between(150, 600),
                SimulatedBehaviour.CloseWaitBuildup => random.Between(20, 120),
                _ => 0,
            };
            if (behaviour == SimulatedBehaviour.FastLeak && soft > 16384)
            {
                // A service that leaks this fast is one whose limit nobody raised.
                (soft, hard) = random.Chance(0.6) ? (1024UL, 524288UL) : (4096UL, 4096UL);
            }
            double? restartEvery = null;
            if (behaviour == SimulatedBehaviour.FastLeak)
            {
                // It runs into its limit, sits there failing for a while, and is restarted.
                double fill = Math.Max(0.5 * Hour, (soft - (ulong)Math.Min(soft, (ulong)template.FdsMax)) / rate * Hour);
                restartEvery = Math.Min(24 * Hour, fill + random.Between(0.5, 2) * Hour);
            }
            else if (i >= firstApp && random.Chance(0.3))
            {
                restartEvery = random.Between(6, 48) * Hour;
            }
            double offset = restartEvery is { } every ? random.Between(0, every) : random.Between(1 * Hour, 30 * 24 * Hour);
            string container = template.Placement is Placement.Docker or Placement.Kubernetes ? Hex(random.NextUInt64()) + Hex(random.NextUInt64()) + Hex(random.NextUInt64()) + Hex(random.NextUInt64()) : "";
            string podUid = template.Placement == Placement.Kubernetes ? new Guid(BitConverter.GetBytes(random.NextUInt64()).Concat(BitConverter.GetBytes(random.NextUInt64())).ToArray()).ToString("D") : "";
            var cgroup = Cgroup(template, container, podUid);
            ulong netns = template.Placement is Placement.Docker or Placement.Kubernetes ? 4026532200UL + (ulong)random.Next(0, 100_000) : hostNamespace;
            var plan = new ServicePlan
            {
                RatePerHour = rate,
                RestartEvery = restartEvery,
                Offset = offset,
                PhaseShift = random.Between(-1.5, 1.5) * Hour,
                CloseWaitRemote = ParseEndpoint(ServiceCatalog.CloseWaitRemote),
            };
            string name = _grouper.Name(new ProcessRecord { Comm = template.Comm, Exe = template.Exe, Cgroup = cgroup }).Name;
            plan.Public = new SimulatedService(name, template.Comm, behaviour, restartEvery is { } r ? TimeSpan.FromSeconds(r) : null, soft, hard, counts[i]);
            _services.Add(plan);

            int mainSlot = _processes.Count;
            int workers = counts[i] - 1 - (template.Sidecar ? 1 : 0);
            for (int w = 0; w <= workers; w++)
            {
                bool main = w == 0;
                bool worker = !main;
                var process = NewProcess(ref random, plan, template, cgroup, netns, main ? null : mainSlot);
                process.Cmdline = worker && template.WorkerCmdline.Length > 0 ? template.WorkerCmdline : template.Cmdline;
                // The leak is in one process: the first worker where there are workers, else the main one.
                process.Leaks = behaviour is SimulatedBehaviour.SlowLeak or SimulatedBehaviour.FastLeak or SimulatedBehaviour.CloseWaitBuildup
                    && w == (workers > 0 ? 1 : 0);
                process.StartOffset = worker ? 1 + w * 0.01 : 0;
                process.Listens = template.ListenPort > 0 && (main || template.Key is "nginx" or "haproxy");
                if (main && workers > 0 && template.Key is "nginx" or "php-fpm" or "postgres")
                {
                    // A master process holds few fds; its workers do the work.
                    process.FullLoadFds = Math.Max(8, process.FullLoadFds / 6);
                }
                _processes.Add(process);
            }
            if (template.Sidecar)
            {
                var envoy = NewProcess(ref random, plan, ServiceCatalog.Envoy, cgroup, netns, parentSlot: null);
                envoy.Listens = true;
                envoy.StartOffset = 0.5;
                _processes.Add(envoy);
            }
        }
    }

    private ProcessPlan NewProcess(ref SimRandom random, ServicePlan service, ServiceTemplate template, CgroupDetails cgroup, ulong netns, int? parentSlot)
    {
        int slot = _processes.Count;
        return new ProcessPlan
        {
            Service = service,
            Slot = slot,
            PidBase = template.Placement == Placement.InitScope ? 0 : 300 + slot * 12000,
            PidSeed = random.Next(0, 12000),
            ParentSlot = parentSlot,
            Comm = template.Comm,
            Exe = template.Exe,
            Cmdline = template.Cmdline,
            Uid = template.Uid,
            Threads = (uint)random.Next(template.ThreadsMin, template.ThreadsMax + 1),
            Cgroup = cgroup,
            NetNamespace = netns,
            FullLoadFds = random.Next(template.FdsMin, template.FdsMax + 1),
            TcpShare = template.TcpShare,
            Upstream = template.Upstream is { } upstream ? ParseEndpoint(upstream) : null,
            Inotify = template.Inotify,
        };
    }

    private static (ulong Soft, ulong Hard) Limits(ref SimRandom random, ServiceTemplate template, bool system)
    {
        if (system || template.Placement == Placement.InitScope)
        {
            // systemd's default for services: soft 1024 (select() safety), hard 524288.
            return template.Key == "systemd" ? (1073741816UL, 1073741816UL) : (1024UL, 524288UL);
        }
        if (template.Placement is Placement.Docker or Placement.Kubernetes)
        {
            return random.Chance(0.8) ? (1048576UL, 1048576UL) : (65536UL, 65536UL);
        }
        double draw = random.NextDouble();
        return draw < 0.3 ? (1024UL, 524288UL) : draw < 0.5 ? (4096UL, 4096UL) : draw < 0.9 ? (65536UL, 65536UL) : (1048576UL, 1048576UL);
    }

    private static CgroupDetails Cgroup(ServiceTemplate template, string container, string podUid)
    {
        switch (template.Placement)
        {
            case Placement.Docker:
                return new CgroupDetails($"/system.slice/docker-{container}.scope", container, "docker", "", $"docker-{container}.scope")
                {
                    ContainerName = template.Unit,
                };
            case Placement.Kubernetes:
                string slice = podUid.Replace('-', '_');
                return new CgroupDetails($"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{slice}.slice/cri-containerd-{container}.scope", container, "containerd", podUid, "")
                {
                    KubernetesPodName = template.Unit,
                    KubernetesNamespace = template.Namespace,
                };
            case Placement.InitScope:
                return new CgroupDetails("/init.scope", "", "", "", "init.scope");
            default:
                return new CgroupDetails($"/system.slice/{template.Unit}", "", "", "", template.Unit);
        }
    }

    private static Endpoint ParseEndpoint(string text)
    {
        int colon = text.LastIndexOf(':');
        var ip = System.Net.IPAddress.Parse(text[..colon]);
        byte[] b = ip.GetAddressBytes();
        uint v = (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
        return new Endpoint(v, true, ushort.Parse(text[(colon + 1)..], CultureInfo.InvariantCulture));
    }

    private static string Hex(ulong value) => value.ToString("x16", CultureInfo.InvariantCulture);

    private sealed class HostPlan
    {
        public required string BootId { get; init; }
        public required string Kernel { get; init; }
        public double Uptime { get; init; }
        public DateTimeOffset BootTime { get; init; }
        public ulong FileMax { get; init; }
        public ulong NrOpen { get; init; }
        public uint PortLow { get; init; }
        public uint PortHigh { get; init; }
        public ulong ConntrackMax { get; init; }
        public uint FinTimeout { get; init; }
        public int TwReuse { get; init; }
        public ulong MaxOrphans { get; init; }
        public ulong InotifyInstances { get; init; }
        public ulong InotifyWatches { get; init; }
        public double TimeWaitBase { get; init; }
        public ulong ExtraHandles { get; init; }
    }

    private sealed class ServicePlan
    {
        public SimulatedService Public { get; set; } = null!;
        public double RatePerHour { get; init; }
        /// <summary>Seconds between restarts, or null.</summary>
        public double? RestartEvery { get; init; }
        /// <summary>With restarts: how far into its period the service is at time zero; without: its uptime at time zero.</summary>
        public double Offset { get; init; }
        public double PhaseShift { get; init; }
        public Endpoint CloseWaitRemote { get; init; }

        /// <summary>Which incarnation runs at simulated time t, and since when.</summary>
        public (long Generation, double Since) Generation(double t)
        {
            if (RestartEvery is not { } every)
            {
                return (0, -Offset);
            }
            long generation = (long)Math.Floor((t + Offset) / every);
            return (generation, generation * every - Offset);
        }
    }

    private sealed class ProcessPlan
    {
        public required ServicePlan Service { get; init; }
        public int Slot { get; init; }
        public int PidBase { get; init; }
        public int PidSeed { get; init; }
        public int? ParentSlot { get; init; }
        public required string Comm { get; init; }
        public required string Exe { get; init; }
        public string Cmdline { get; set; } = "";
        public uint Uid { get; init; }
        public uint Threads { get; init; }
        public required CgroupDetails Cgroup { get; init; }
        public ulong NetNamespace { get; init; }
        public int FullLoadFds { get; set; }
        public double TcpShare { get; init; }
        public Endpoint? Upstream { get; init; }
        public bool Inotify { get; init; }
        public bool Leaks { get; set; }
        public bool Listens { get; set; }
        public double StartOffset { get; set; }

        /// <summary>Each incarnation gets another pid (consecutive generations never share one).</summary>
        public int Pid(long generation) =>
            PidBase == 0 ? 1 : PidBase + (int)((PidSeed + generation * 4801L % 12000 + 12000L * 1000) % 12000);
    }
}
