using System.Threading.Channels;
using Fleet.Server.Ingest;
using Fleet.Server.Live;
using Fleet.Server.Tests.Ingest;
using Fleet.Web.Data;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleet.Server.Tests.Live;

public sealed class LiveBusTests : IAsyncLifetime, IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly LiveBus _bus = new(TimeProvider.System, NullLogger<LiveBus>.Instance);

    public Task InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    public ValueTask DisposeAsync() => _bus.DisposeAsync();

    private static AgentRegistration Agent(string host) => new(1, 1, "agent-" + host, host, 0);

    private static Channel<LiveSnapshot> Collect(LiveBus bus, LiveTopic topic, out IDisposable subscription)
    {
        var received = Channel.CreateUnbounded<LiveSnapshot>();
        subscription = bus.Subscribe(topic, s => received.Writer.WriteAsync(s).AsTask());
        return received;
    }

    [Fact]
    public async Task StoredSnapshot_ReachesFleetHostAndServiceSubscribers_NotOtherHosts()
    {
        var fleet = Collect(_bus, LiveTopic.Fleet, out var s1);
        var host = Collect(_bus, LiveTopic.Host("web-1"), out var s2);
        var otherHost = Collect(_bus, LiveTopic.Host("db-1"), out var s3);
        var service = Collect(_bus, LiveTopic.Service("app"), out var s4);
        using var cts = new CancellationTokenSource(Timeout);

        _bus.Stored(Agent("web-1"), TestSnapshots.Valid(7));

        Assert.Equal(7ul, (await fleet.Reader.ReadAsync(cts.Token)).Host.Sequence);
        Assert.Equal(7ul, (await host.Reader.ReadAsync(cts.Token)).Host.Sequence);
        Assert.Equal("app", Assert.Single((await service.Reader.ReadAsync(cts.Token)).Services).Name);
        // A later snapshot of another host proves the first was not queued for db-1 (delivery is in order).
        _bus.Stored(Agent("db-1"), TestSnapshots.Valid(8));
        Assert.Equal(8ul, (await otherHost.Reader.ReadAsync(cts.Token)).Host.Sequence);
        foreach (var s in new[] { s1, s2, s3, s4 })
        {
            s.Dispose();
        }
    }

    [Fact]
    public async Task SlowSubscriber_DoesNotDelayOthers()
    {
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var slow = _bus.Subscribe(LiveTopic.Fleet, _ => blocked.Task);
        var fast = Collect(_bus, LiveTopic.Fleet, out var fastSubscription);
        using var cts = new CancellationTokenSource(Timeout);

        for (ulong i = 1; i <= 5; i++)
        {
            _bus.Stored(Agent("web-1"), TestSnapshots.Valid(i));
        }

        for (ulong i = 1; i <= 5; i++)
        {
            Assert.Equal(i, (await fast.Reader.ReadAsync(cts.Token)).Host.Sequence);
        }
        blocked.SetResult();
        fastSubscription.Dispose();
    }

    [Fact]
    public async Task FailingSubscriber_KeepsReceivingLaterSnapshots()
    {
        var seen = Channel.CreateUnbounded<ulong>();
        using var subscription = _bus.Subscribe(LiveTopic.Fleet, async s =>
        {
            await seen.Writer.WriteAsync(s.Host.Sequence);
            throw new InvalidOperationException("a page failed");
        });
        using var cts = new CancellationTokenSource(Timeout);

        _bus.Stored(Agent("web-1"), TestSnapshots.Valid(1));
        _bus.Stored(Agent("web-1"), TestSnapshots.Valid(2));

        Assert.Equal(1ul, await seen.Reader.ReadAsync(cts.Token));
        Assert.Equal(2ul, await seen.Reader.ReadAsync(cts.Token));
    }

    [Fact]
    public async Task DisposedSubscription_ReceivesNothingMore()
    {
        var first = Collect(_bus, LiveTopic.Fleet, out var subscription);
        var witness = Collect(_bus, LiveTopic.Fleet, out var witnessSubscription);
        using var cts = new CancellationTokenSource(Timeout);
        _bus.Stored(Agent("web-1"), TestSnapshots.Valid(1));
        await first.Reader.ReadAsync(cts.Token);
        await witness.Reader.ReadAsync(cts.Token);

        subscription.Dispose();
        _bus.Stored(Agent("web-1"), TestSnapshots.Valid(2));

        Assert.Equal(2ul, (await witness.Reader.ReadAsync(cts.Token)).Host.Sequence);
        Assert.False(first.Reader.TryRead(out _));
        Assert.Equal(1, _bus.SubscriberCount);
        witnessSubscription.Dispose();
    }
}
