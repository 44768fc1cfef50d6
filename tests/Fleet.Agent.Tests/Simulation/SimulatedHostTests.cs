using Fleet.Agent.Simulation;
using Fleet.Contracts.V1;

namespace Fleet.Agent.Tests.Simulation;

public class SimulatedHostTests
{
    private const int Seed = 7;
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);

    private static IEnumerable<SimulatedHost> Fleet(int count = 40) =>
        Enumerable.Range(1, count).Select(i => new SimulatedHost(Seed, i, Start));

    private static (SimulatedHost Host, SimulatedService Service) Find(SimulatedBehaviour behaviour)
    {
        foreach (var host in Fleet())
        {
            var service = host.Services.FirstOrDefault(s => s.Behaviour == behaviour);
            if (service is not null)
            {
                return (host, service);
            }
        }
        throw new InvalidOperationException($"no host of the fleet has a {behaviour} service");
    }

    private static Service ServiceIn(Snapshot snapshot, string name) => Assert.Single(snapshot.Services, s => s.Name == name);

    /// <summary>Snapshots every <paramref name="step"/> of simulated time over <paramref name="span"/>.</summary>
    private static List<Snapshot> Samples(SimulatedHost host, TimeSpan span, TimeSpan step)
    {
        var samples = new List<Snapshot>();
        for (var t = TimeSpan.Zero; t <= span; t += step)
        {
            samples.Add(host.Next(Start + t));
        }
        return samples;
    }

    [Fact]
    public void SameSeed_GivesTheSameHostsAndSnapshots()
    {
        var a = new SimulatedHost(42, 3, Start);
        var b = new SimulatedHost(42, 3, Start);
        var other = new SimulatedHost(43, 3, Start);
        var at = Start.AddHours(5);

        Assert.Equal(a.Next(at), b.Next(at));
        Assert.Equal(a.MachineId, b.MachineId);
        Assert.NotEqual(a.MachineId, other.MachineId);
        Assert.NotEqual(a.Next(at), other.Next(at));
    }

    [Fact]
    public void Hosts_HavePlausibleServicesAndProcessesAndDistinctIdentities()
    {
        var hosts = Fleet(20).ToList();
        var snapshots = hosts.Select(h => h.Next(Start.AddHours(1))).ToList();

        Assert.All(snapshots, s => Assert.InRange(s.Processes.Count, 50, 300));
        Assert.All(snapshots, s => Assert.InRange(s.Services.Count, 5, 16));
        Assert.Equal(20, snapshots.Select(s => s.Host.Hostname).Distinct().Count());
        Assert.Equal(20, snapshots.Select(s => s.Host.MachineId).Distinct().Count());
        Assert.Equal("sim-host-001", snapshots[0].Host.Hostname);
        var comms = snapshots.SelectMany(s => s.Processes).Select(p => p.Comm).ToHashSet();
        Assert.Superset(new HashSet<string> { "nginx", "java", "postgres", "node", "redis-server", "envoy", "python3" }, comms);
        Assert.All(snapshots.SelectMany(s => s.Processes), p => Assert.Equal(p.OpenFds, Total(p.Fds)));
        Assert.All(snapshots, s => Assert.Equal(s.Processes.Count, s.Processes.Select(p => p.Pid).Distinct().Count()));
    }

    [Fact]
    public void FastLeak_OpenFdsOfTheLeakingProcessGrowOverSimulatedTime()
    {
        var (host, service) = Find(SimulatedBehaviour.FastLeak);
        var samples = Samples(host, TimeSpan.FromHours(30), TimeSpan.FromMinutes(10));

        // Within one incarnation (same worst pid), an hour of simulated time adds at least 100 fds until the limit.
        int bestGrowth = 0;
        for (int i = 0; i + 6 < samples.Count; i++)
        {
            var before = ServiceIn(samples[i], service.Name);
            var after = ServiceIn(samples[i + 6], service.Name);
            if (before.WorstPid == after.WorstPid)
            {
                bestGrowth = Math.Max(bestGrowth, (int)after.WorstOpenFds - (int)before.WorstOpenFds);
            }
        }
        Assert.True(bestGrowth >= 100, $"{service}: at most {bestGrowth} more fds in an hour");
        Assert.True(samples.Max(s => ServiceIn(s, service.Name).WorstOpenFds) <= service.NofileSoft);
    }

    [Fact]
    public void Restart_DropsTheFdsAndGivesNewPidsAndStartTimes()
    {
        var (host, service) = Fleet()
            .SelectMany(h => h.Services.Where(s => s.RestartEvery is not null).Select(s => (Host: h, Service: s)))
            .First();
        var span = service.RestartEvery!.Value * 2;
        var samples = Samples(host, span, TimeSpan.FromMinutes(5));

        int restarts = 0;
        for (int i = 1; i < samples.Count; i++)
        {
            var before = samples[i - 1].Processes.Where(p => p.Service == service.Name).ToList();
            var after = samples[i].Processes.Where(p => p.Service == service.Name).ToList();
            var main = before.OrderBy(p => p.StartTimeTicks).First();
            var next = after.OrderBy(p => p.StartTimeTicks).First();
            if (main.Pid == next.Pid)
            {
                Assert.Equal(main.StartTimeTicks, next.StartTimeTicks);
                continue;
            }
            restarts++;
            Assert.True(next.StartTimeTicks > main.StartTimeTicks);
            Assert.True(next.StartTime.ToDateTimeOffset() > main.StartTime.ToDateTimeOffset());
            Assert.Empty(after.Select(p => p.Pid).Intersect(before.Select(p => p.Pid)));
            ulong fdsBefore = (ulong)before.Sum(p => (long)p.OpenFds);
            ulong fdsAfter = (ulong)after.Sum(p => (long)p.OpenFds);
            Assert.True(fdsAfter < fdsBefore, $"{service}: {fdsBefore} fds before the restart, {fdsAfter} after");
        }
        Assert.InRange(restarts, 1, 3);
    }

    [Fact]
    public void CloseWaitBuildup_TowardOneRemoteGrowsOverSimulatedTime()
    {
        var (host, service) = Find(SimulatedBehaviour.CloseWaitBuildup);
        var samples = Samples(host, TimeSpan.FromHours(6), TimeSpan.FromMinutes(30));

        static ulong Toward(Service s) =>
            s.CloseWaitRemotes.Where(r => r.Address == "10.0.3.7" && r.Port == 443).Aggregate(0UL, (sum, r) => sum + r.Count);
        int growing = 0;
        for (int i = 1; i < samples.Count; i++)
        {
            var before = ServiceIn(samples[i - 1], service.Name);
            var after = ServiceIn(samples[i], service.Name);
            if (before.WorstPid == after.WorstPid && Toward(after) > Toward(before))
            {
                growing++;
                Assert.True(after.Tcp.CloseWait > before.Tcp.CloseWait);
            }
        }
        Assert.True(growing >= 6, $"{service}: CLOSE_WAIT grew in only {growing} of {samples.Count - 1} steps");
        var last = ServiceIn(samples[^1], service.Name);
        Assert.Equal("10.0.3.7", last.CloseWaitRemotes[0].Address);
    }

    [Fact]
    public void DailyCycle_FollowsTheLoadOfTheDay()
    {
        var (host, service) = Find(SimulatedBehaviour.DailyCycle);

        // Simulated time starts at midnight UTC: the load is low around 03:00 and high around 15:00.
        var night = ServiceIn(host.Next(Start.AddHours(27)), service.Name);
        var afternoon = ServiceIn(host.Next(Start.AddHours(39)), service.Name);

        Assert.True(afternoon.OpenFds > night.OpenFds * 1.5, $"{service}: {night.OpenFds} fds at night, {afternoon.OpenFds} in the afternoon");
    }

    [Fact]
    public void EveryHost_HasAServiceAtTheDefaultSoftLimitOf1024()
    {
        foreach (var host in Fleet(10))
        {
            var snapshot = host.Next(Start.AddHours(2));

            Assert.Contains(snapshot.Services, s => s.WorstNofileSoft == 1024);
            Assert.Contains(snapshot.Processes, p => p.NofileSoft == 1024 && p.NofileHard == 524288);
        }
    }

    [Fact]
    public void Hosts_DifferInTheirSysctls()
    {
        var systems = Fleet(20).Select(h => h.Next(Start).System).ToList();

        Assert.True(systems.Select(s => s.FileHandlesMax).Distinct().Count() >= 2);
        Assert.True(systems.Select(s => (s.EphemeralPortLow, s.EphemeralPortHigh)).Distinct().Count() >= 2);
        Assert.True(systems.Select(s => s.ConntrackMax).Distinct().Count() >= 2);
        Assert.True(systems.Select(s => s.TcpFinTimeoutSeconds).Distinct().Count() >= 2);
        Assert.Contains(systems, s => !s.ConntrackPresent);
        Assert.All(systems, s => Assert.True(s.FileHandlesAllocated > 0 && s.FileHandlesAllocated < s.FileHandlesMax));
    }

    [Fact]
    public void Speed_RunsSimulatedTimeFasterButKeepsRealTimestamps()
    {
        var fast = new SimulatedHost(Seed, 1, Start, speed: 60);
        var now = Start.AddMinutes(1);

        var snapshot = fast.Next(now);

        Assert.Equal(TimeSpan.FromHours(1), fast.SimulatedElapsed(now));
        Assert.Equal(now, snapshot.CollectedAt.ToDateTimeOffset());
        Assert.Equal(new SimulatedHost(Seed, 1, Start).Next(Start.AddHours(1)).Processes.Select(p => p.OpenFds), snapshot.Processes.Select(p => p.OpenFds));
    }

    [Fact]
    public void GroupingRules_FromTheServer_RenameTheServices()
    {
        var host = new SimulatedHost(Seed, 1, Start);
        host.SetGroupingRules([new GroupingRule { Field = GroupingRule.Types.Field.Comm, Pattern = "^(.+)$", ServiceTemplate = "comm-$1" }]);

        var snapshot = host.Next(Start);

        Assert.All(snapshot.Services, s => Assert.StartsWith("comm-", s.Name, StringComparison.Ordinal));
    }

    private static ulong Total(FdCounts f) =>
        f.RegularFile + f.Directory + f.Pipe + f.Fifo + f.SocketTcp + f.SocketUdp + f.SocketUnix + f.SocketNetlink + f.SocketOther
        + f.CharDevice + f.BlockDevice + f.Eventpoll + f.Eventfd + f.Timerfd + f.Signalfd + f.Inotify + f.AnonInodeOther + f.Memfd + f.Other;
}
