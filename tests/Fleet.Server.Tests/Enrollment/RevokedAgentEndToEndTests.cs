using Fleet.Server.Tests.EndToEnd;
using Xunit.Abstractions;

namespace Fleet.Server.Tests.Enrollment;

/// <summary>
/// The real agent (reading this machine's /proc, with its spool and reconnect loop) against the real server and
/// PostgreSQL: revoking its token cuts it off at once and its reconnects are refused.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class RevokedAgentEndToEndTests(ITestOutputHelper output) : IAsyncLifetime
{
    private EnrollmentServer _server = null!;
    private EndToEndHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _server = await EnrollmentServer.StartAsync();
        _harness = EndToEndHarness.OnDatabase(_server.Database.ConnectionString, output);
    }

    public async Task DisposeAsync()
    {
        // Null when InitializeAsync failed.
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
        if (_server is not null)
        {
            _server.Logs.WriteTo(output);
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task RevokedAgent_IsCutOffAtOnce_IsRefusedOnReconnect_AndWhatWasAcknowledgedStaysStored()
    {
        // Arrange: a token made in the admin's name; the agent streams with it.
        var token = await _server.Admin.CreateTokenAsync("e2e-revoked", "alice", CancellationToken.None).WaitAsync(EndToEndHarness.Deadline);
        var agent = _harness.StartAgent(_server.Grpc, token.Secret);
        await _harness.UntilAsync(() => agent.IsConnected && agent.Acknowledged >= 2, () => $"2 snapshots acknowledged ({agent})");

        // Act
        Assert.True(await _server.Admin.RevokeTokenAsync(token.Id, "bob", CancellationToken.None).WaitAsync(EndToEndHarness.Deadline));

        // Assert: the stream ends with the reason at once (the agent hears it), nothing more is acknowledged.
        await _harness.UntilAsync(
            () => !agent.IsConnected && _harness.Logs.Count("agent#", "TokenRefused", "enrollment token revoked") >= 1,
            () => $"the agent cut off with 'enrollment token revoked' ({agent})",
            TimeSpan.FromSeconds(15));
        long acknowledged = agent.Acknowledged;
        // Its reconnects are refused by the token check (the agent keeps trying, with backoff, and keeps collecting).
        await _harness.UntilAsync(
            () => _server.Logs.Count("Fleet.Server.Ingest", "TokenRefused", "revoked token 'e2e-revoked'") >= 1
                && _harness.Logs.Count("agent#", "TokenRefused", "enrollment token refused") >= 1,
            () => $"a reconnect refused ({agent})");
        Assert.False(agent.IsConnected);
        Assert.Equal(acknowledged, agent.Acknowledged);
        Assert.True(agent.IsRunning);
        // Everything acknowledged is stored once; what was not stays in the agent's spool.
        var stored = await _harness.StoredAsync(agent.AgentId);
        Assert.NotNull(stored);
        Assert.InRange(stored.LastCommittedSequence, acknowledged, agent.Produced);
        Assert.Equal(stored.LastCommittedSequence, stored.HostSamples);
        Assert.Equal(stored.HostSamples, stored.DistinctSampleTimes);
        var listed = Assert.Single(await _server.Admin.ListAgentsAsync(CancellationToken.None).WaitAsync(EndToEndHarness.Deadline), a => a.AgentId == agent.AgentId);
        Assert.Equal((true, false), (listed.TokenRevoked, listed.Connected));
    }
}
