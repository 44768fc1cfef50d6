using System.Threading.Channels;
using Fleet.Contracts.V1;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Ingest;

/// <summary>
/// The agent configuration in force (in memory: it starts from settings, <c>Fleet:AgentConfig</c>), and the
/// open streams that want to hear when it changes. A subscriber only ever needs the newest configuration, so
/// each subscription holds at most one pending update.
/// </summary>
public sealed class AgentConfigPublisher
{
    private readonly Lock _gate = new();
    private readonly List<Subscription> _subscriptions = [];
    private AgentConfig _current;

    public AgentConfigPublisher(IOptions<AgentConfigOptions> options)
        : this(options.Value.ToContract())
    {
    }

    public AgentConfigPublisher(AgentConfig initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _current = initial.Clone();
    }

    /// <summary>A copy of the configuration in force.</summary>
    public AgentConfig Current
    {
        get
        {
            lock (_gate)
            {
                return _current.Clone();
            }
        }
    }

    public int SubscriberCount
    {
        get
        {
            lock (_gate)
            {
                return _subscriptions.Count;
            }
        }
    }

    /// <summary>Makes <paramref name="config"/> the configuration in force and hands it to every subscriber.</summary>
    /// <exception cref="ArgumentException">The configuration breaks <see cref="AgentConfigRules"/>.</exception>
    public void Publish(AgentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = AgentConfigRules.Validate(config);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(config));
        }
        lock (_gate)
        {
            _current = config.Clone();
            foreach (var subscription in _subscriptions)
            {
                subscription.Offer(_current.Clone());
            }
        }
    }

    /// <summary>Subscribes to changes; <see cref="Subscription.Current"/> is the configuration at the time of subscribing.</summary>
    public Subscription Subscribe()
    {
        lock (_gate)
        {
            var subscription = new Subscription(this, _current.Clone());
            _subscriptions.Add(subscription);
            return subscription;
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            _subscriptions.Remove(subscription);
        }
    }

    public sealed class Subscription : IDisposable
    {
        private readonly AgentConfigPublisher _owner;
        private readonly Channel<AgentConfig> _updates = Channel.CreateBounded<AgentConfig>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

        internal Subscription(AgentConfigPublisher owner, AgentConfig current)
        {
            _owner = owner;
            Current = current;
        }

        public AgentConfig Current { get; }

        /// <summary>Configurations published after subscribing (only the newest when several came quickly).</summary>
        public ChannelReader<AgentConfig> Updates => _updates.Reader;

        internal void Offer(AgentConfig config) => _updates.Writer.TryWrite(config);

        public void Dispose()
        {
            _owner.Remove(this);
            _updates.Writer.TryComplete();
        }
    }
}
