using Fleet.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using ContractProcess = Fleet.Contracts.V1.Process;

namespace Fleet.Server.Tests.Ingest;

/// <summary>Valid hellos and snapshots to start from; a test breaks one field.</summary>
internal static class TestSnapshots
{
    public const string MachineId = "0123456789abcdef0123456789abcdef";
    public const string Hostname = "web-1";

    public static HostIdentity Host() => new()
    {
        MachineId = MachineId,
        BootId = "7f1c2d3e-0000-4000-8000-000000000001",
        Hostname = Hostname,
        Kernel = "6.1.0-18-amd64",
        AgentVersion = "0.1.0",
    };

    public static Hello Hello(string token, string agentId = "agent-1") => new()
    {
        Host = Host(),
        EnrollmentToken = token,
        AgentVersion = "0.1.0",
        ContractVersion = 1,
        AgentId = agentId,
    };

    public static AgentMessage HelloMessage(string token, string agentId = "agent-1") => new() { Hello = Hello(token, agentId) };

    public static AgentMessage SnapshotMessage(Snapshot snapshot) => new() { Snapshot = snapshot };

    public static Snapshot Valid(ulong sequence, DateTimeOffset? collectedAt = null, int processes = 3)
    {
        var snapshot = new Snapshot
        {
            ContractVersion = 1,
            Host = Host(),
            Sequence = sequence,
            CollectedAt = Timestamp.FromDateTimeOffset(collectedAt ?? DateTimeOffset.UtcNow),
            CollectionDuration = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(42)),
            UnownedTcp = new TcpStates { TimeWait = 12 },
            System = new SystemFigures
            {
                FileHandlesAllocated = 4_096,
                FileHandlesMax = long.MaxValue,
                NrOpen = 1_048_576,
                EphemeralPortLow = 32_768,
                EphemeralPortHigh = 60_999,
                EphemeralPortsInUse = 17,
                TopEphemeralRemote = new RemoteEndpointCount { Address = "10.0.0.5", Port = 5432, Count = 9 },
                TcpTwReuse = 2,
                InotifyByUser = { new UserInotify { Uid = 0, Instances = 3 } },
            },
            AgentCost = new AgentCost
            {
                Cpu = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(20)),
                Wall = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(42)),
                ResidentBytes = 30_000_000,
                ProcessesSeen = (uint)processes,
            },
            NetworkNamespaces = { new NetworkNamespace { Inode = 4026531840, ReaderPid = 1, ProcessCount = (uint)processes, TcpSockets = 8 } },
        };
        for (int i = 0; i < processes; i++)
        {
            snapshot.Processes.Add(new ContractProcess
            {
                Pid = 100 + i,
                StartTimeTicks = 1_000 + (ulong)i,
                StartTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(-1)),
                Comm = "java",
                Exe = "/usr/bin/java",
                Cmdline = "java -jar app.jar",
                Uid = 1000,
                Ppid = 1,
                Threads = 20,
                Cgroup = new CgroupInfo { Path = "/system.slice/app.service", SystemdUnit = "app.service" },
                Service = "app",
                FdsReadable = true,
                OpenFds = 120,
                Fds = new FdCounts { RegularFile = 100, SocketTcp = 20 },
                NofileSoft = 1024,
                NofileHard = ulong.MaxValue,
                Tcp = new TcpStates { Established = 18, CloseWait = 2 },
                CloseWaitRemotes = { new RemoteEndpointCount { Address = "2001:db8::1", Port = 443, Count = 2 } },
                NetworkNamespace = 4026531840,
            });
        }
        snapshot.Services.Add(new Service
        {
            Name = "app",
            Source = Service.Types.Source.Systemd,
            ProcessCount = (uint)processes,
            OpenFds = 120 * (ulong)processes,
            Fds = new FdCounts { RegularFile = 100 * (ulong)processes, SocketTcp = 20 * (ulong)processes },
            Tcp = new TcpStates { Established = 18 * (ulong)processes, CloseWait = 2 * (ulong)processes },
            WorstPid = 100,
            WorstOpenFds = 120,
            WorstNofileSoft = 1024,
            WorstNofileHard = ulong.MaxValue,
            WorstSoftLimitPercent = 11.71875,
            CloseWaitRemotes = { new RemoteEndpointCount { Address = "2001:db8::1", Port = 443, Count = 2 * (ulong)processes } },
        });
        return snapshot;
    }
}
