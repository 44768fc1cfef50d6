using Fleet.Agent.Simulation;
using Fleet.Agent.Tests.Streaming;

namespace Fleet.Agent.Tests.Simulation;

public sealed class FleetSimulatorTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Simulate_StreamsEveryHostThroughItsOwnSpoolAndStream()
    {
        await using var server = await FakeIngestServer.StartAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var simulator = new FleetSimulator(new FleetSimulatorOptions
        {
            Hosts = 3,
            ServerAddress = server.Address,
            EnrollmentToken = "token",
            StateDirectory = _folder.Path,
            Interval = TimeSpan.FromMilliseconds(300),
            Seed = 5,
            Speed = 3600,
        });

        var running = simulator.RunAsync(stop.Token);
        await Eventually.WaitUntil(
            () => server.State.CommittedSnapshots.Select(s => s.Host.Hostname).Distinct().Count() == 3 && simulator.SnapshotsAcknowledged >= 6,
            "every host has snapshots stored");
        await stop.CancelAsync();
        await running.WaitAsync(Eventually.Timeout);

        var hellos = server.State.Hellos.ToList();
        Assert.Equal(3, hellos.Select(h => h.AgentId).Distinct().Count());
        Assert.Equal(["sim-host-001", "sim-host-002", "sim-host-003"], hellos.Select(h => h.Host.Hostname).Distinct().Order());
        Assert.Equal(3, server.State.CommittedSnapshots.Select(s => s.Host.MachineId).Distinct().Count());
        Assert.True(Directory.Exists(Path.Combine(_folder.Path, "sim-host-002", "spool")));
        foreach (var agent in hellos.Select(h => h.AgentId).Distinct())
        {
            var sequences = server.State.CommittedSequences(agent).ToList();
            Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (ulong)i), sequences);
        }
    }
}
