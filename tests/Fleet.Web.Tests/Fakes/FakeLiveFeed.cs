using Fleet.Web.Data;

namespace Fleet.Web.Tests.Fakes;

/// <summary>A live feed the test drives: it counts open subscriptions and publishes to the matching ones.</summary>
public sealed class FakeLiveFeed : ILiveFeed
{
    private readonly Lock _gate = new();
    private readonly List<Subscription> _subscriptions = [];

    public int ActiveSubscriptions
    {
        get
        {
            lock (_gate)
            {
                return _subscriptions.Count;
            }
        }
    }

    public IReadOnlyList<LiveTopic> Topics
    {
        get
        {
            lock (_gate)
            {
                return [.. _subscriptions.Select(s => s.Topic)];
            }
        }
    }

    public IDisposable Subscribe(LiveTopic topic, Func<LiveSnapshot, Task> onSnapshot)
    {
        var subscription = new Subscription(this, topic, onSnapshot);
        lock (_gate)
        {
            _subscriptions.Add(subscription);
        }
        return subscription;
    }

    /// <summary>Hands the snapshot to every subscriber whose topic matches, as the live bus does.</summary>
    public async Task PublishAsync(LiveSnapshot snapshot)
    {
        Subscription[] targets;
        lock (_gate)
        {
            targets = [.. _subscriptions.Where(s => s.Topic.Matches(snapshot))];
        }
        foreach (var s in targets)
        {
            await s.Handler(snapshot).WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    private sealed record Subscription(FakeLiveFeed Feed, LiveTopic Topic, Func<LiveSnapshot, Task> Handler) : IDisposable
    {
        public void Dispose()
        {
            lock (Feed._gate)
            {
                Feed._subscriptions.Remove(this);
            }
        }
    }
}
