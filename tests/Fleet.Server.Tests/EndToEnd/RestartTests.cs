using Xunit.Abstractions;

namespace Fleet.Server.Tests.EndToEnd;

/// <summary>The server or the agent stops while snapshots are on their way: each sequence is still stored exactly once.</summary>
[Collection(EndToEndSuite.Name)]
public sealed class RestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private EndToEndHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await EndToEndHarness.OnFreshDatabaseAsync(output);

    public async Task DisposeAsync()
    {
        // Null when InitializeAsync failed.
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    [Fact]
    public async Task ServerRestartedMidStream_EverySequenceStoredExactlyOnce()
    {
        // Arrange: a server on a fixed gRPC port, an agent streaming to it.
        int grpcPort = EndToEndHarness.FreePort();
        var first = _harness.StartServer(grpcPort);
        string token = await EndToEndHarness.CreateTokenAsync(first, "e2e-server-restart");
        var agent = _harness.StartAgent(first.Grpc, token);
        await _harness.UntilAsync(() => agent.Acknowledged >= 3, () => $"3 snapshots acknowledged by the first server ({agent})");

        // Act: the server goes away while the agent keeps collecting, then a new one comes up on the same port and database.
        await first.DisposeAsync().AsTask().WaitAsync(EndToEndHarness.Deadline);
        long producedAtStop = agent.Produced;
        await _harness.UntilAsync(
            () => !agent.IsConnected && agent.Spooled >= 3 && agent.Produced >= producedAtStop + 3,
            () => $"3 more snapshots spooled while the server is down ({agent})");
        var second = _harness.StartServer(grpcPort);
        Assert.Equal(first.Grpc, second.Grpc);
        await _harness.UntilAsync(
            () => agent.IsConnected && agent.Produced >= 10 && agent.Spooled == 0,
            () => $"10 snapshots produced and the spool emptied into the second server ({agent})");
        await agent.StopAsync();

        // Assert
        _harness.AssertEverySequenceStoredOnce(await _harness.StoredAsync(agent.AgentId), agent.Produced, agent.Spooled);
    }

    [Fact]
    public async Task AgentRestartedWithFullSpool_ReplaysInOrder()
    {
        // Arrange: an enrolled agent whose server is not running yet (the token made with the CLI, the port free).
        string token = await _harness.CreateTokenWithCommandAsync("e2e-replay");
        int grpcPort = EndToEndHarness.FreePort();
        var grpc = new Uri($"http://127.0.0.1:{grpcPort}");
        string state = _harness.NewStateDirectory();
        var firstRun = _harness.StartAgent(grpc, token, state);
        await _harness.UntilAsync(() => firstRun.Spooled >= 10, () => $"10 snapshots spooled with no server ({firstRun})");
        await firstRun.StopAsync();
        long producedFirst = firstRun.Produced;
        string agentId = firstRun.AgentId;
        Assert.Equal(producedFirst, firstRun.Spooled);
        Assert.Equal(0, firstRun.Acknowledged);

        // Act: the server comes up; a new agent on the same state folder replays the spool, then goes on.
        var server = _harness.StartServer(grpcPort);
        var secondStarted = DateTimeOffset.UtcNow;
        var secondRun = _harness.StartAgent(server.Grpc, token, state);
        await _harness.UntilAsync(
            () => secondRun.IsConnected && secondRun.Produced >= 1 && secondRun.Spooled == 0,
            () => $"the spool replayed and emptied ({secondRun})");
        await secondRun.StopAsync();

        // Assert: one agent, its sequences continuing across the restart; everything of both runs stored once.
        Assert.Equal(agentId, secondRun.AgentId);
        var stored = await _harness.StoredAsync(agentId);
        _harness.AssertEverySequenceStoredOnce(stored, producedFirst + secondRun.Produced, secondRun.Spooled);
        Assert.True(stored!.LatestSequence > (ulong)producedFirst, $"the second run's sequences follow the first's {producedFirst}: latest {stored.LatestSequence}");
        Assert.Equal(producedFirst, await _harness.ScalarAsync(
            "SELECT count(*) FROM host_samples WHERE host_id = $1 AND time < $2", stored.HostId, secondStarted));
        Assert.Equal(1, await _harness.ScalarAsync("SELECT count(*) FROM agents"));
    }
}
