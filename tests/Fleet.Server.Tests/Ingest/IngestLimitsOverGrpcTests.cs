using Fleet.Server.Ingest;
using Fleet.Server.Tests.Enrollment;
using Fleet.Server.Tests.Hosting;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Tests.Ingest;

/// <summary>The ingest limits on the real server: real gRPC on loopback, and real PostgreSQL where snapshots are stored.</summary>
public sealed class IngestLimitsOverGrpcTests
{
    private static readonly TimeSpan Timeout = EnrollmentServer.Timeout;

    [Fact]
    public async Task FloodingAgent_WaitsForPermits_AndEverySnapshotItSentIsStoredOnce()
    {
        // Arrange: a burst of 2, then one snapshot per 200 ms: 8 sent at once cannot all pass without waiting.
        await using var server = await EnrollmentServer.StartAsync(new Dictionary<string, string?>
        {
            ["Fleet:Ingest:RateLimit:SnapshotsPerSecond"] = "5",
            ["Fleet:Ingest:RateLimit:Burst"] = "2",
        });
        var limiter = server.Services.GetRequiredService<AgentSnapshotLimiter>();
        var token = await server.Admin.CreateTokenAsync("flood", "alice", CancellationToken.None).WaitAsync(Timeout);
        using var agent = await RawAgent.ConnectAsync(server.Grpc, token.Secret, EnrollmentServer.UniqueName("flooder"));

        // Act: 8 snapshots without waiting for acknowledgements (the agent's in-flight window), then their answers.
        for (ulong seq = 1; seq <= 8; seq++)
        {
            await agent.SendAsync(seq).WaitAsync(Timeout);
        }
        var acks = new List<ulong>();
        for (int i = 0; i < 8; i++)
        {
            var answer = await agent.NextAsync().WaitAsync(Timeout);
            acks.Add(answer.Ack.Sequence);
        }

        // Assert: the limit bit (counted), nothing was refused or lost, each stored once, in order.
        Assert.Equal([1ul, 2ul, 3ul, 4ul, 5ul, 6ul, 7ul, 8ul], acks);
        Assert.InRange(limiter.Throttled, 1, 6);
        Assert.Equal(8, limiter.Admitted);
        Assert.Equal(8, await server.ScalarAsync("SELECT last_committed_sequence FROM agents WHERE agent_id = $1", agent.AgentId));
        Assert.Equal(8, await server.ScalarAsync(
            "SELECT count(*) FROM host_samples s JOIN hosts h ON h.id = s.host_id WHERE h.machine_id = $1", agent.MachineId));
        Assert.Equal(1, server.Logs.Count("Fleet.Server.Ingest", "SnapshotsThrottled", agent.AgentId));
        await agent.CloseAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task TheConnectOverTheBurstFromOneAddress_IsRefusedWithResourceExhausted_BeforeItsTokenIsLookedAt()
    {
        // Arrange: 3 connects at once from one address, then one per 10 minutes.
        using var factory = new FleetServerFactory(new Dictionary<string, string?>
        {
            ["Fleet:Ingest:RateLimit:ConnectBurst"] = "3",
            ["Fleet:Ingest:RateLimit:ConnectsPerMinute"] = "0.1",
        });
        var (_, grpc) = factory.Start();
        string token = factory.Store.AddKnownToken("storm");
        var limiter = factory.Services.GetRequiredService<ConnectLimiter>();

        // Act: three agents connect and leave; the fourth attempt comes from the same address.
        for (int i = 0; i < 3; i++)
        {
            using var agent = await RawAgent.ConnectAsync(grpc, token, $"storm-{i}");
            await agent.CloseAsync().WaitAsync(Timeout);
        }
        int hellosBefore = factory.Store.Hellos.Count;
        var refused = await Assert.ThrowsAsync<RpcException>(() => RawAgent.ConnectAsync(grpc, token, "storm-3").WaitAsync(Timeout));

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.StartsWith("too many connection attempts from 127.0.0.1: at most 3 at once", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, limiter.Refused);
        Assert.Equal(hellosBefore, factory.Store.Hellos.Count);
    }

    [Theory]
    [InlineData("Fleet:Ingest:RateLimit:SnapshotsPerSecond", "0")]
    [InlineData("Fleet:Ingest:RateLimit:Burst", "0")]
    [InlineData("Fleet:Ingest:RateLimit:ConnectsPerMinute", "-5")]
    [InlineData("Fleet:Ingest:RateLimit:ConnectBurst", "0")]
    [InlineData("Fleet:Ingest:RevocationCheckInterval", "00:00:00")]
    public void ServerWithABadIngestLimit_RefusesToStartNamingTheKey(string key, string value)
    {
        using var factory = new FleetServerFactory(new Dictionary<string, string?> { [key] = value });

        var ex = Assert.ThrowsAny<Exception>(() => factory.Start());

        var validation = Assert.IsType<OptionsValidationException>(ex.GetBaseException() as OptionsValidationException ?? ex);
        var failure = Assert.Single(validation.Failures);
        Assert.StartsWith($"{key} is {value}: allowed are ", failure, StringComparison.Ordinal);
    }
}
