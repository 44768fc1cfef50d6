using System.Threading.Channels;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Fleet.Web.Data;

namespace Fleet.Server.Live;

/// <summary>
/// The live bus: ingest tells it of each committed snapshot; it summarises them off the ingest path and hands each
/// summary to the subscribers whose topic matches. Every subscriber has a bounded queue of its own that drops its
/// oldest summaries when the subscriber lags (a slow page never slows ingest or other pages).
/// </summary>
public sealed partial class LiveBus : ILiveFeed, IStoredSnapshotObserver, IAsyncDisposable
{
    public const int QueueCapacity = 4096;
    public const int SubscriberQueueCapacity = 256;

    private readonly Channel<(AgentRegistration Agent, Snapshot Snapshot, DateTimeOffset StoredAt)> _stored;
    private readonly TimeProvider _time;
    private readonly ILogger<LiveBus> _logger;
    private readonly Lock _gate = new();
    private readonly Task _dispatch;
    private Subscription[] _subscribers = [];
    private long _dropped;

    public LiveBus(TimeProvider time, ILogger<LiveBus> logger)
    {
        _time = time;
        _logger = logger;
        _stored = Channel.CreateBounded<(AgentRegistration, Snapshot, DateTimeOffset)>(new BoundedChannelOptions(QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        }, _ => Interlocked.Increment(ref _dropped));
        _dispatch = Task.Run(DispatchAsync);
    }

    /// <summary>Summaries dropped because the bus or a subscriber lagged.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public int SubscriberCount => Volatile.Read(ref _subscribers).Length;

    public void Stored(AgentRegistration agent, Snapshot snapshot) =>
        _stored.Writer.TryWrite((agent, snapshot, _time.GetUtcNow()));

    public IDisposable Subscribe(LiveTopic topic, Func<LiveSnapshot, Task> onSnapshot)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(onSnapshot);
        var subscription = new Subscription(this, topic, onSnapshot);
        lock (_gate)
        {
            _subscribers = [.. _subscribers, subscription];
        }
        return subscription;
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            _subscribers = [.. _subscribers.Where(s => s != subscription)];
        }
    }

    private async Task DispatchAsync()
    {
        await foreach (var (agent, snapshot, storedAt) in _stored.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            LiveSnapshot summary;
            try
            {
                summary = LiveSummaries.Summarize(snapshot, agent.HostName, storedAt);
            }
            catch (Exception e)
            {
                LogSummaryFailed(_logger, e, agent.HostName, snapshot.Sequence);
                continue;
            }
            foreach (var subscriber in Volatile.Read(ref _subscribers))
            {
                if (subscriber.Topic.Matches(summary))
                {
                    subscriber.Post(summary);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stored.Writer.TryComplete();
        await _dispatch.ConfigureAwait(false);
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            subscriber.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Live feed: the summary of snapshot {Sequence} of host {Host} failed; subscribers miss it")]
    private static partial void LogSummaryFailed(ILogger logger, Exception e, string host, ulong sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Live feed: a subscriber to {Topic} failed on a summary of host {Host}")]
    private static partial void LogSubscriberFailed(ILogger logger, Exception e, string topic, string host);

    private sealed class Subscription : IDisposable
    {
        private readonly LiveBus _bus;
        private readonly Func<LiveSnapshot, Task> _handler;
        private readonly Channel<LiveSnapshot> _queue;

        public Subscription(LiveBus bus, LiveTopic topic, Func<LiveSnapshot, Task> handler)
        {
            _bus = bus;
            Topic = topic;
            _handler = handler;
            _queue = Channel.CreateBounded<LiveSnapshot>(new BoundedChannelOptions(SubscriberQueueCapacity)
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleReader = true,
                SingleWriter = true,
            }, _ => Interlocked.Increment(ref bus._dropped));
            _ = Task.Run(RunAsync);
        }

        public LiveTopic Topic { get; }

        public void Post(LiveSnapshot summary) => _queue.Writer.TryWrite(summary);

        private async Task RunAsync()
        {
            await foreach (var summary in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    await _handler(summary).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    LogSubscriberFailed(_bus._logger, e, $"{Topic.Kind}:{Topic.Name}", summary.Host.Name);
                }
            }
        }

        public void Dispose()
        {
            _bus.Remove(this);
            _queue.Writer.TryComplete();
        }
    }
}
