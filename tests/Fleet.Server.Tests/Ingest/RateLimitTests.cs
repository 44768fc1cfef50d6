using System.Net;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Tests.Ingest;

/// <summary>The per-agent snapshot limit (back-pressure) and the per-address connection limit, in memory.</summary>
public sealed class RateLimitTests
{
    private const string Peer = "192.0.2.10:50000";

    private static IOptions<IngestOptions> Options(IngestRateLimitOptions limits) =>
        Microsoft.Extensions.Options.Options.Create(new IngestOptions { RateLimit = limits });

    [Fact]
    public async Task AgentOverItsRate_WaitsForEachPermit_AndEverySnapshotIsStoredAndAcknowledgedInOrder()
    {
        // Arrange: a bucket of 2 that refills only when the test refills it.
        var store = new FakeIngestStore();
        string token = store.AddKnownToken("flood");
        var options = Options(new IngestRateLimitOptions { SnapshotsPerSecond = 1, Burst = 2 });
        using var buckets = new ManualAgentBuckets(burst: 2);
        using var limiter = new AgentSnapshotLimiter(buckets);
        using var streams = new AgentStreams();
        var log = new ListLogger<SnapshotIngestor>();
        await using var batcher = new SnapshotBatcher(store, Microsoft.Extensions.Options.Options.Create(new SnapshotBatchingOptions()), new ListLogger<SnapshotBatcher>());
        var config = new AgentConfigPublisher(new AgentConfig { Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)) });
        var ingestor = new SnapshotIngestor(store, batcher, new SnapshotValidator(options, TimeProvider.System), config, streams, limiter, options, log);
        var stream = new TestStream();
        var session = ingestor.RunAsync(stream, stream, Peer, CancellationToken.None);
        stream.Send(TestSnapshots.HelloMessage(token, "flooder"));
        Assert.Equal(ServerMessage.BodyOneofCase.Welcome, (await stream.ReceiveAsync()).BodyCase);

        // Act: the agent sends 5 at once.
        for (ulong seq = 1; seq <= 5; seq++)
        {
            stream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(seq)));
        }

        // Assert: the burst goes through; the third waits for a permit, and nothing after it is taken meanwhile.
        Assert.Equal(1ul, (await stream.ReceiveAsync()).Ack.Sequence);
        Assert.Equal(2ul, (await stream.ReceiveAsync()).Ack.Sequence);
        for (ulong seq = 3; seq <= 5; seq++)
        {
            await IngestWait.UntilAsync(
                () => buckets.GetStatistics("flooder")!.CurrentQueuedCount == 1,
                () => $"snapshot {seq} waiting for a permit (throttled {limiter.Throttled})");
            Assert.Equal((long)seq - 2, limiter.Throttled);
            Assert.Equal((int)seq - 1, store.Stored.Count);
            buckets.Refill("flooder");
            Assert.Equal(seq, (await stream.ReceiveAsync()).Ack.Sequence);
        }
        stream.Complete();
        await session.WaitAsync(TestStream.Timeout);
        Assert.Equal([1ul, 2ul, 3ul, 4ul, 5ul], store.Stored.Select(s => s.Snapshot.Sequence));
        Assert.Equal(5, limiter.Admitted);
        Assert.Equal(3, limiter.Throttled);
        Assert.Single(log.Lines, l => l.Message.Contains("sends snapshots faster than", StringComparison.Ordinal));
        Assert.Single(log.Lines, l => l.Message.Contains("waited for the snapshot rate limit 3 times", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SnapshotLimiter_GivesEachAgentItsOwnBucketOfBurstSize()
    {
        // A refill of one per 1,000 s: nothing comes back during the test.
        using var limiter = new AgentSnapshotLimiter(Options(new IngestRateLimitOptions { SnapshotsPerSecond = 0.001, Burst = 3 }));
        using var cts = new CancellationTokenSource(TestStream.Timeout);

        for (int i = 0; i < 3; i++)
        {
            Assert.False(await limiter.WaitAsync("a", cts.Token), "within the burst nothing waits");
        }
        using var stop = new CancellationTokenSource();
        var fourth = limiter.WaitAsync("a", stop.Token).AsTask();
        var otherAgent = await limiter.WaitAsync("b", cts.Token);

        Assert.False(otherAgent, "another agent has a full bucket of its own");
        Assert.Equal(1, limiter.Statistics("a")!.CurrentQueuedCount);
        Assert.Equal(0, limiter.Statistics("a")!.CurrentAvailablePermits);
        Assert.Equal(1, limiter.Throttled);
        Assert.False(fourth.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fourth.WaitAsync(TestStream.Timeout));
        Assert.Equal(4, limiter.Admitted);
    }

    [Fact]
    public void ConnectLimiter_RefusesTheAttemptOverTheBurst_WithResourceExhaustedSayingWhy_AndLogsOncePerBurst()
    {
        var log = new ListLogger<ConnectLimiter>();
        using var limiter = new ConnectLimiter(Options(new IngestRateLimitOptions { ConnectBurst = 3, ConnectsPerMinute = 0.1 }), log);

        for (int i = 0; i < 3; i++)
        {
            limiter.Admit("192.0.2.7");
        }
        var refused = Assert.Throws<RpcException>(() => limiter.Admit("192.0.2.7"));
        Assert.Throws<RpcException>(() => limiter.Admit("192.0.2.7"));
        limiter.Admit("192.0.2.8");

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.StartsWith("too many connection attempts from 192.0.2.7: at most 3 at once and 0.1 a minute (Fleet:Ingest:RateLimit); retry in ", refused.Status.Detail, StringComparison.Ordinal);
        long pushback = long.Parse(Assert.Single(refused.Trailers, t => t.Key == "grpc-retry-pushback-ms").Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(pushback, 1_000, 600_000);
        Assert.Equal(2, limiter.Refused);
        var line = Assert.Single(log.Lines);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("192.0.2.7", line.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("192.0.2.7", "192.0.2.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    public void ConnectLimit_CountsAnIPv4AddressAlone_AndAnIPv6AddressByIts64Network(string address, string key) =>
        Assert.Equal(key, AgentIngestService.LimitKey(IPAddress.Parse(address)));

    [Theory]
    [InlineData(10, 100, 10, 1.0)]
    [InlineData(0.5, 100, 1, 2.0)]
    [InlineData(2.5, 100, 3, 1.2)]
    [InlineData(10, 2, 2, 0.2)]
    [InlineData(0.001, 3, 1, 1000.0)]
    public void Refill_GivesWholeTokensAtTheConfiguredRate_NeverMoreAtOnceThanTheBurst(double perSecond, int burst, int tokens, double periodSeconds)
    {
        var (t, period) = IngestRateLimitOptions.Refill(perSecond, burst);

        Assert.Equal(tokens, t);
        Assert.Equal(periodSeconds, period.TotalSeconds, 6);
        Assert.Equal(perSecond, t / period.TotalSeconds, 6);
    }

    [Fact]
    public void Defaults_AreValid_AndLeaveANormalAgentAndASpoolReplayUnthrottled()
    {
        var defaults = new IngestRateLimitOptions();

        Assert.Empty(defaults.Validate());
        // A normal agent sends one snapshot per 10 s (at the fastest one per second, the shortest interval allowed).
        Assert.True(defaults.SnapshotsPerSecond >= 10 * 1.0, "ten times the fastest interval the server hands out");
        // A spool of a day at 10 s (8,640 snapshots) replays within half an hour.
        Assert.True(8640 / defaults.SnapshotsPerSecond <= 30 * 60, "a day's spool replays within 30 min");
    }

    [Fact]
    public void BadLimits_AreRefusedNamingEachKey()
    {
        var result = new IngestOptionsValidator().Validate(null, new IngestOptions
        {
            RateLimit = new IngestRateLimitOptions { SnapshotsPerSecond = 0, Burst = 0, ConnectsPerMinute = double.NaN, ConnectBurst = -1 },
            RevocationCheckInterval = TimeSpan.Zero,
        });

        Assert.True(result.Failed);
        var errors = result.Failures!.ToList();

        Assert.Contains(errors, e => e.StartsWith("Fleet:Ingest:RateLimit:SnapshotsPerSecond is 0: allowed are 0.001 to", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Fleet:Ingest:RateLimit:Burst is 0: allowed are 1 to", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Fleet:Ingest:RateLimit:ConnectsPerMinute is NaN", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Fleet:Ingest:RateLimit:ConnectBurst is -1", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Fleet:Ingest:RevocationCheckInterval is 00:00:00", StringComparison.Ordinal));
        Assert.Equal(5, errors.Count);
    }
}
