using System.Threading.Channels;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Alerts;

/// <summary>
/// Where ingest hands committed snapshots to alert evaluation (returns at once, never throws). It keeps the newest
/// snapshot of each host only: rules judge the latest state, so a snapshot not yet evaluated when a newer one of the
/// same host arrives is replaced. At most <see cref="AlertOptions.MaxQueuedHosts"/> hosts wait at once; beyond,
/// snapshots of further hosts are dropped and counted.
/// </summary>
public sealed class AlertInbox(IOptions<AlertOptions> options) : IStoredSnapshotObserver
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Snapshot> _latest = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly int _capacity = options.Value.MaxQueuedHosts;
    private long _dropped;
    private long _replaced;

    /// <summary>Snapshots dropped because <see cref="AlertOptions.MaxQueuedHosts"/> hosts were waiting.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Snapshots replaced by a newer one of their host before they were evaluated.</summary>
    public long Replaced => Interlocked.Read(ref _replaced);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _latest.Count;
            }
        }
    }

    public void Stored(AgentRegistration agent, Snapshot snapshot)
    {
        if (agent?.HostName is not { } host || snapshot is null)
        {
            return;
        }
        lock (_gate)
        {
            if (_latest.TryGetValue(host, out var waiting))
            {
                // A replayed (older) snapshot never replaces a newer one.
                if (Collected(snapshot) >= Collected(waiting))
                {
                    _latest[host] = snapshot;
                }
                _replaced++;
                return;
            }
            if (_latest.Count >= _capacity)
            {
                _dropped++;
                return;
            }
            _latest[host] = snapshot;
            _order.Enqueue(host);
        }
        _signal.Writer.TryWrite(true);
    }

    /// <summary>Waits until snapshots wait (true) or the queue is completed (false).</summary>
    public async ValueTask<bool> WaitAsync(CancellationToken ct)
    {
        if (!await _signal.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            return false;
        }
        _signal.Reader.TryRead(out _);
        return true;
    }

    /// <summary>Takes up to <paramref name="max"/> waiting snapshots, oldest host first; signals again when more wait.</summary>
    public IReadOnlyList<QueuedSnapshot> Take(int max)
    {
        var taken = new List<QueuedSnapshot>();
        bool more;
        lock (_gate)
        {
            while (taken.Count < max && _order.TryDequeue(out var host))
            {
                if (_latest.Remove(host, out var snapshot))
                {
                    taken.Add(new QueuedSnapshot(host, snapshot));
                }
            }
            more = _order.Count > 0;
        }
        if (more)
        {
            _signal.Writer.TryWrite(true);
        }
        return taken;
    }

    public void Complete() => _signal.Writer.TryComplete();

    private static DateTimeOffset Collected(Snapshot s) => s.CollectedAt?.ToDateTimeOffset() ?? DateTimeOffset.MinValue;
}
