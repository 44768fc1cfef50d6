using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Fleet.Server.Tests.Storage;
using Fleet.Web.Data;
using Google.Protobuf.WellKnownTypes;

namespace Fleet.Server.Tests.Dashboard;

/// <summary>A process of a made snapshot: its service, fds, soft limit and CLOSE_WAIT sockets by remote.</summary>
internal sealed record Proc(string Service, int Pid, ulong OpenFds, ulong SoftLimit, params (string Address, uint Port, ulong Count)[] CloseWait);

/// <summary>Snapshots with exactly the processes a test says, grouped into services as the agent does; system figures vary with the sequence.</summary>
internal static class DashboardSnapshots
{
    public static readonly TimeSpan TestTimeout = StorageHarness.Timeout;

    public static Snapshot Make(string host, ulong sequence, DateTimeOffset at, params Proc[] processes)
    {
        var snapshot = new Snapshot
        {
            ContractVersion = 1,
            Host = TestSnapshots.Host(host),
            Sequence = sequence,
            CollectedAt = Timestamp.FromDateTimeOffset(at),
            CollectionDuration = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(20 + (double)sequence)),
            UnownedTcp = new TcpStates { CloseWait = 2, TimeWait = 40 + sequence, FinWait2 = 1 },
            System = new SystemFigures
            {
                FileHandlesAllocated = 5_000 + 37 * sequence,
                FileHandlesMax = 1_000_000,
                NrOpen = 1_048_576,
                EphemeralPortLow = 32768,
                EphemeralPortHigh = 60999,
                EphemeralPortsInUse = 100 + 3 * sequence,
                TopEphemeralRemote = new RemoteEndpointCount { Address = "2001:db8::5", Port = 443, Count = 20 + sequence },
                TcpMaxOrphans = 65536,
                TcpOrphans = sequence % 7,
                TcpTimeWait = 300 + sequence,
                TcpFinTimeoutSeconds = 60,
                TcpTwReuse = 2,
                ConntrackPresent = true,
                ConntrackCount = 9_000 + 11 * sequence,
                ConntrackMax = 262_144,
                InotifyMaxUserInstances = 128,
                InotifyMaxUserWatches = 65536,
                InotifyByUser = { new Contracts.V1.UserInotify { Uid = 0, Instances = 12 }, new Contracts.V1.UserInotify { Uid = 1000, Instances = 3 } },
            },
            AgentCost = new AgentCost
            {
                Cpu = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(7.5)),
                Wall = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(21)),
                ResidentBytes = 20_000_000,
                ProcessesSeen = (uint)processes.Length,
                ProcessesVanished = 1,
                MalformedLines = 0,
                ProcessesRescanned = 3,
                FdsRead = 999,
            },
            NetworkNamespaces = { new NetworkNamespace { Inode = 4026531840, ReaderPid = 1, ProcessCount = (uint)processes.Length } },
        };
        foreach (var p in processes)
        {
            ulong closeWait = (ulong)p.CloseWait.Sum(r => (long)r.Count);
            var process = new Process
            {
                Pid = p.Pid,
                StartTimeTicks = 1000 + (ulong)p.Pid,
                StartTime = Timestamp.FromDateTimeOffset(new DateTimeOffset(2030, 3, 1, 0, 0, 0, TimeSpan.Zero)),
                Comm = $"{p.Service}-{p.Pid}",
                Exe = "/usr/bin/" + p.Service,
                Cmdline = $"/usr/bin/{p.Service} --pid {p.Pid}",
                Service = p.Service,
                FdsReadable = true,
                OpenFds = p.OpenFds,
                NofileSoft = p.SoftLimit,
                NofileHard = 524288,
                Fds = new FdCounts { SocketTcp = closeWait + 1, RegularFile = p.OpenFds - closeWait - 1 },
                Tcp = new TcpStates { CloseWait = closeWait, Established = 1 },
            };
            foreach (var (address, port, count) in p.CloseWait)
            {
                process.CloseWaitRemotes.Add(new RemoteEndpointCount { Address = address, Port = port, Count = count });
            }
            snapshot.Processes.Add(process);
        }
        snapshot.Services.AddRange(TestSnapshots.Services(snapshot.Processes));
        return snapshot;
    }

    /// <summary>Registers the host of the first snapshot with a new agent and stores every snapshot, in order, through the production store.</summary>
    public static async Task<AgentRegistration> StoreAsync(this StorageHarness harness, params Snapshot[] snapshots)
    {
        var agent = await harness.RegisterAsync(snapshots[0]);
        foreach (var s in snapshots)
        {
            Assert.Equal(StoreOutcome.Stored, await harness.Store.StoreSnapshotAsync(agent, s, CancellationToken.None).WaitAsync(TestTimeout));
        }
        return agent;
    }

    public static TimeWindow Window(DateTimeOffset from, DateTimeOffset to) => new(from, to, Live: false, "custom");

    /// <summary>What a series should hold: for each step from <paramref name="from"/> (a multiple of the step), the maximum of the samples in it, or a gap.</summary>
    public static double?[] Expected(DateTimeOffset from, TimeSpan step, int points, IEnumerable<(DateTimeOffset At, double Value)> samples)
    {
        var values = new double?[points];
        foreach (var (at, value) in samples)
        {
            long i = (at - from).Ticks / step.Ticks;
            if (at >= from && i < points)
            {
                values[i] = values[i] is { } v ? Math.Max(v, value) : value;
            }
        }
        return values;
    }

    public static DateTimeOffset At(this Snapshot s) => s.CollectedAt.ToDateTimeOffset();
}
