using Fleet.Contracts.V1;
using Fleet.Server.Storage.Series;

namespace Fleet.Server.Tests.Storage;

public class LatestSnapshotTests
{
    private static readonly HostIdentity Host = new() { MachineId = "m-latest", Hostname = "latest", BootId = "b", Kernel = "6.1" };

    [Fact]
    public void LatestKept_OfALargeSnapshot_KeepsTheProcessesThatMatterAndEverythingElse()
    {
        var snapshot = TestSnapshots.Realistic(Host, 1, DateTimeOffset.UtcNow, processes: 300);
        snapshot.Processes[7].FdsReadable = false;
        var selected = SnapshotFigures.SelectProcesses(snapshot, 20);

        var kept = SnapshotFigures.LatestKept(snapshot, 20);

        // The same processes process_samples keeps, plus the unreadable one; in snapshot order.
        var expected = snapshot.Processes.Where(p => !p.FdsReadable || selected.Contains(p)).Select(p => p.Pid).ToList();
        Assert.Equal(expected, kept.Processes.Select(p => p.Pid));
        Assert.True(kept.Processes.Count < snapshot.Processes.Count);
        Assert.All(snapshot.Processes.Where(p => p.FdsReadable && (p.Tcp?.CloseWait ?? 0) > 0), p => Assert.Contains(p, kept.Processes));
        var mostFds = snapshot.Processes.Where(p => p.FdsReadable).MaxBy(p => p.OpenFds)!;
        Assert.Contains(mostFds, kept.Processes);
        // Everything but the process list is the snapshot's own.
        Assert.Equal(snapshot.Services, kept.Services);
        Assert.Equal(snapshot.System, kept.System);
        Assert.Equal(snapshot.AgentCost, kept.AgentCost);
        Assert.Equal(snapshot.Sequence, kept.Sequence);
        Assert.Equal(snapshot.Host, kept.Host);
    }

    [Fact]
    public void LatestKept_OfASmallSnapshot_IsTheSnapshotItself()
    {
        var snapshot = TestSnapshots.Realistic(Host, 1, DateTimeOffset.UtcNow, processes: 10);

        Assert.Same(snapshot, SnapshotFigures.LatestKept(snapshot, 20));
    }
}
