using System.Collections.Concurrent;
using System.Net;
using Fleet.Agent.Streaming;
using Fleet.Contracts.V1;
using Google.Protobuf.WellKnownTypes;

namespace Fleet.Agent.Tests.Streaming;

public sealed class AgentRunnerTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
        _folder.Dispose();
    }

    private AgentRunnerOptions Options(Uri server, TimeSpan? interval = null) => new()
    {
        ServerAddress = server,
        EnrollmentToken = "token",
        StateDirectory = _folder.Path,
        Interval = interval ?? TimeSpan.FromMilliseconds(200),
        ReconnectDelay = (_, ct) => Task.Delay(TimeSpan.FromMilliseconds(20), ct),
    };

    private static int UnusedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Run_StreamsThisHostsSnapshotsAndTheServerStoresEachOnce()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var runner = new AgentRunner(Options(server.Address));

        var running = runner.RunAsync(_stop.Token);
        await Eventually.WaitUntil(() => runner.SnapshotsAcknowledged >= 3, "three snapshots are acknowledged");
        await _stop.CancelAsync();
        await running.WaitAsync(Eventually.Timeout);

        var stored = server.State.CommittedSnapshots.OrderBy(s => s.Sequence).ToList();
        Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (ulong)i), stored.Select(s => s.Sequence));
        Assert.All(stored, s => Assert.Contains(s.Processes, p => p.Pid == Environment.ProcessId));
        Assert.Equal(runner.AgentId, Assert.Single(server.State.Hellos.Select(h => h.AgentId).Distinct()));
    }

    [Fact]
    public async Task ConfigPushedByTheServer_ChangesTheRunnersInterval()
    {
        await using var server = await FakeIngestServer.StartAsync();
        var runner = new AgentRunner(Options(server.Address, TimeSpan.FromSeconds(1)));
        var applied = new ConcurrentQueue<AgentConfig>();
        runner.ConfigApplied += applied.Enqueue;

        var running = runner.RunAsync(_stop.Token);
        await Eventually.WaitUntil(() => runner.IsConnected, "the runner is connected");
        server.State.Push(new ServerMessage { Config = new AgentConfig { Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(7)) } });
        await Eventually.WaitUntil(() => runner.Interval == TimeSpan.FromSeconds(7), "the interval is 7 s");
        await _stop.CancelAsync();
        await running.WaitAsync(Eventually.Timeout);

        Assert.Contains(applied, c => c.Interval.ToTimeSpan() == TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task ServerDown_KeepsCollectingIntoTheSpoolAndStopsCleanly()
    {
        var runner = new AgentRunner(Options(new Uri($"http://127.0.0.1:{UnusedPort()}"), TimeSpan.FromMilliseconds(100)));

        var running = runner.RunAsync(_stop.Token);
        await Eventually.WaitUntil(() => runner.SpooledSnapshots >= 3, "three snapshots are spooled");
        await _stop.CancelAsync();
        await running.WaitAsync(Eventually.Timeout);

        Assert.True(running.IsCompletedSuccessfully);
        using var spool = SnapshotSpool.Open(_folder.Path);
        Assert.True(spool.Count >= 3);
        Assert.Equal(runner.AgentId, spool.AgentId);
        Assert.Equal(1UL, spool.OldestSequence);
    }

    [Fact]
    public async Task Restart_AfterTheServerCameBack_DeliversWhatWasSpooledWhileItWasDown()
    {
        int port = UnusedPort();
        var first = new AgentRunner(Options(new Uri($"http://127.0.0.1:{port}"), TimeSpan.FromMilliseconds(100)));
        using (var down = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            var running = first.RunAsync(down.Token);
            await Eventually.WaitUntil(() => first.SpooledSnapshots >= 3, "three snapshots are spooled");
            await down.CancelAsync();
            await running.WaitAsync(Eventually.Timeout);
        }
        await using var server = await FakeIngestServer.StartAsync(port: port);
        var second = new AgentRunner(Options(server.Address, TimeSpan.FromMilliseconds(100)));

        var again = second.RunAsync(_stop.Token);
        await Eventually.WaitUntil(() => second.SnapshotsAcknowledged >= 5 && second.SpooledSnapshots == 0, "the spool is delivered");
        await _stop.CancelAsync();
        await again.WaitAsync(Eventually.Timeout);

        Assert.Equal(first.AgentId, second.AgentId);
        var sequences = server.State.CommittedSequences(second.AgentId!).ToList();
        Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (ulong)i), sequences);
    }

    [Fact]
    public void Constructor_WithBadOptions_ListsEveryProblem()
    {
        var options = new AgentRunnerOptions
        {
            ServerAddress = new Uri("http://10.9.9.9:7443"),
            EnrollmentToken = "",
            StateDirectory = "",
            Interval = TimeSpan.Zero,
        };

        var e = Assert.Throws<ArgumentException>(() => new AgentRunner(options));

        Assert.Contains("ServerAddress", e.Message, StringComparison.Ordinal);
        Assert.Contains("EnrollmentToken", e.Message, StringComparison.Ordinal);
        Assert.Contains("StateDirectory", e.Message, StringComparison.Ordinal);
        Assert.Contains("Interval", e.Message, StringComparison.Ordinal);
    }
}
