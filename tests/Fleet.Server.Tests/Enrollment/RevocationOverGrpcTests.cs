using Fleet.Server.Ingest;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Server.Tests.Enrollment;

/// <summary>Revoking through <c>IEnrollmentAdmin</c> on the real server: real gRPC streams on loopback, real PostgreSQL.</summary>
public sealed class RevocationOverGrpcTests(EnrollmentServerFixture fixture) : IClassFixture<EnrollmentServerFixture>
{
    private static readonly TimeSpan Timeout = EnrollmentServer.Timeout;

    /// <summary>How long "at once" may take on a loaded test machine: far below the 1 min revocation check.</summary>
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(10);

    private EnrollmentServer Server => fixture.Server;

    [Fact]
    public async Task RevokingAToken_EndsItsOpenStreamAtOnceWithTheReason_RefusesTheReconnect_AndKeepsTheAcknowledgedSnapshots()
    {
        // Arrange: two agents of one token and one of another, all streaming; three snapshots of the first acknowledged.
        var web = await Server.Admin.CreateTokenAsync(EnrollmentServer.UniqueName("web"), "alice", CancellationToken.None).WaitAsync(Timeout);
        var db = await Server.Admin.CreateTokenAsync(EnrollmentServer.UniqueName("db"), "alice", CancellationToken.None).WaitAsync(Timeout);
        using var first = await RawAgent.ConnectAsync(Server.Grpc, web.Secret, EnrollmentServer.UniqueName("web-1"));
        using var second = await RawAgent.ConnectAsync(Server.Grpc, web.Secret, EnrollmentServer.UniqueName("web-2"));
        using var other = await RawAgent.ConnectAsync(Server.Grpc, db.Secret, EnrollmentServer.UniqueName("db-1"));
        for (ulong seq = 1; seq <= 3; seq++)
        {
            await first.SendAndAckAsync(seq).WaitAsync(Timeout);
        }

        // Act
        bool revoked = await Server.Admin.RevokeTokenAsync(web.Id, "bob", CancellationToken.None).WaitAsync(Timeout);

        // Assert: both streams of the token end with the reason, without the agents sending anything more, well
        // before the periodic revocation check (Fleet:Ingest:RevocationCheckInterval, 1 min) could have cut them.
        Assert.True(revoked);
        foreach (var agent in new[] { first, second })
        {
            var ended = await agent.EndedAsync().WaitAsync(AtOnce);
            Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
            Assert.Equal(SnapshotIngestor.RevokedDetail, ended.Status.Detail);
        }
        // The reconnect is refused by the token check.
        var refused = await Assert.ThrowsAsync<RpcException>(() => RawAgent.ConnectAsync(Server.Grpc, web.Secret, first.AgentId, first.MachineId).WaitAsync(Timeout));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal("enrollment token refused", refused.Status.Detail);
        // The acknowledged snapshots are stored, each once.
        Assert.Equal(3, await Server.ScalarAsync("SELECT last_committed_sequence FROM agents WHERE agent_id = $1", first.AgentId));
        Assert.Equal(3, await Server.ScalarAsync(
            "SELECT count(*) FROM host_samples s JOIN hosts h ON h.id = s.host_id WHERE h.machine_id = $1", first.MachineId));
        // The other token's agent streams on.
        await other.SendAndAckAsync(1).WaitAsync(Timeout);
        Assert.True(Server.Services.GetRequiredService<AgentStreams>().IsOpen(other.AgentId));
        // Who made and who revoked the token is recorded.
        var audit = (await Server.TokenAuditAsync()).Where(a => a.Name == web.Name).Select(a => (a.Actor, a.Action)).ToList();
        Assert.Equal([("alice", "created"), ("bob", "revoked")], audit);
        Assert.Equal(1, Server.Logs.Count("Fleet.Server.Enrollment", "LogRevoked", "2 open stream(s) cut"));
    }

    [Fact]
    public async Task TokenRevokedInTheDatabaseByAnotherServer_IsRefusedOnTheAgentsNextHello()
    {
        var token = await Server.Admin.CreateTokenAsync(EnrollmentServer.UniqueName("elsewhere"), "alice", CancellationToken.None).WaitAsync(Timeout);
        string agentId = EnrollmentServer.UniqueName("agent");
        using (var agent = await RawAgent.ConnectAsync(Server.Grpc, token.Secret, agentId))
        {
            await agent.SendAndAckAsync(1).WaitAsync(Timeout);
            await agent.CloseAsync().WaitAsync(Timeout);
        }

        // Another server (or an operator by hand) revokes it: this server's admin is not involved.
        await Server.ScalarAsync("WITH u AS (UPDATE enrollment_tokens SET revoked_at = now() WHERE id = $1 RETURNING 1) SELECT count(*) FROM u", token.Id);

        var refused = await Assert.ThrowsAsync<RpcException>(() => RawAgent.ConnectAsync(Server.Grpc, token.Secret, agentId).WaitAsync(Timeout));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Fact]
    public async Task ListAgents_ShowsHostVersionAddressSeenTimesTokenAndWhetherAStreamIsOpenNow()
    {
        var token = await Server.Admin.CreateTokenAsync(EnrollmentServer.UniqueName("list"), "alice", CancellationToken.None).WaitAsync(Timeout);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        using var agent = await RawAgent.ConnectAsync(Server.Grpc, token.Secret, EnrollmentServer.UniqueName("listed"));
        await agent.SendAndAckAsync(1).WaitAsync(Timeout);

        var open = Assert.Single(await Server.Admin.ListAgentsAsync(CancellationToken.None).WaitAsync(Timeout), a => a.AgentId == agent.AgentId);

        Assert.Equal($"host-{agent.AgentId}", open.HostName);
        Assert.Equal(RawAgent.Version, open.Version);
        Assert.StartsWith("127.0.0.1:", open.PeerAddress, StringComparison.Ordinal);
        Assert.InRange(open.FirstSeen, before, open.LastSeen);
        Assert.Equal((token.Id, token.Name, false, true), (open.TokenId, open.TokenName, open.TokenRevoked, open.Connected));

        await agent.CloseAsync().WaitAsync(Timeout);
        Assert.True(await Server.Admin.RevokeTokenAsync(token.Id, "alice", CancellationToken.None).WaitAsync(Timeout));
        var closed = Assert.Single(await Server.Admin.ListAgentsAsync(CancellationToken.None).WaitAsync(Timeout), a => a.AgentId == agent.AgentId);
        Assert.Equal((true, false), (closed.TokenRevoked, closed.Connected));
        var all = await Server.Admin.ListAgentsAsync(CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(all.OrderByDescending(a => a.LastSeen).Select(a => a.LastSeen), all.Select(a => a.LastSeen));
    }
}
