using Fleet.Server.Alerts;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Alerts;

/// <summary>
/// A transition sink like the notifier: it records each transition and adds one outbox row per transition to the
/// evaluator's DbContext (an audit_log row of entity "test-outbox"), without saving. <see cref="Fail"/> makes that
/// row invalid (an actor longer than the column), so the evaluator's SaveChanges fails.
/// </summary>
internal sealed class RecordingSink : IAlertTransitionSink
{
    public const string OutboxEntity = "test-outbox";

    private readonly Lock _gate = new();
    private readonly List<AlertTransition> _transitions = [];

    public bool Fail { get; set; }

    public IReadOnlyList<AlertTransition> Transitions
    {
        get
        {
            lock (_gate)
            {
                return [.. _transitions];
            }
        }
    }

    public Task AddAsync(FleetDbContext db, IReadOnlyList<AlertTransition> transitions, CancellationToken ct)
    {
        foreach (var t in transitions)
        {
            db.AuditLog.Add(new AuditEntryEntity
            {
                At = t.At,
                Actor = Fail ? new string('x', 500) : "sink",
                Action = t.Event,
                Entity = OutboxEntity,
                EntityId = t.Alert.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        }
        lock (_gate)
        {
            _transitions.AddRange(transitions);
        }
        return Task.CompletedTask;
    }

    public void Clear()
    {
        lock (_gate)
        {
            _transitions.Clear();
        }
    }
}

/// <summary>Projections a test sets per host; <see cref="Reads"/> counts HostAsync calls.</summary>
internal sealed class FakeProjections : IProjectionData
{
    private readonly Dictionary<string, IReadOnlyList<ProjectionView>> _byHost = new(StringComparer.Ordinal);
    private int _reads;

    public int Reads => Volatile.Read(ref _reads);

    public void Set(string host, params ProjectionView[] views)
    {
        lock (_byHost)
        {
            _byHost[host] = views;
        }
    }

    public Task<IReadOnlyList<ProjectionView>> HostAsync(string hostName, CancellationToken ct)
    {
        Interlocked.Increment(ref _reads);
        lock (_byHost)
        {
            return Task.FromResult(_byHost.TryGetValue(hostName, out var views) ? views : (IReadOnlyList<ProjectionView>)[]);
        }
    }

    public Task<IReadOnlyList<ProjectionView>> ServiceAsync(string serviceName, CancellationToken ct) => throw new NotSupportedException();

    public Task<IReadOnlyList<ProjectionView>> LeaksAsync(int limit, CancellationToken ct) => throw new NotSupportedException();

    /// <summary>An instance projection: a leak reaching the soft limit at <paramref name="exhaustedAt"/>, or no leak.</summary>
    public static ProjectionView Instance(string host, string service, DateTimeOffset computedAt, DateTimeOffset? exhaustedAt) => new(
        host, service, null, null, exhaustedAt is null ? LeakVerdict.NoLeak : LeakVerdict.Leak, exhaustedAt is null ? 0 : 50, 500, 1024, 4096,
        exhaustedAt - computedAt, null, 0.9, computedAt.AddHours(-6), [], null, "test", null, computedAt);
}
