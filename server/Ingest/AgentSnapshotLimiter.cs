using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Ingest;

/// <summary>
/// The snapshot rate of each agent (a token bucket per agent id, <see cref="IngestRateLimitOptions.SnapshotsPerSecond"/>
/// and <see cref="IngestRateLimitOptions.Burst"/>), applied as back-pressure: a stream over its rate waits for a
/// permit before it takes the next snapshot, so nothing is refused or lost; the agent's own in-flight window stops
/// it from sending more meanwhile. The bucket belongs to the agent, not to the stream: reconnecting does not refill it.
/// Counted (<see cref="Throttled"/>, meter <c>Fleet.Server.Ingest</c> counter <c>fleet.ingest.snapshots.throttled</c>).
/// </summary>
public sealed class AgentSnapshotLimiter : IDisposable
{
    /// <summary>Streams of one agent that may wait for a permit at once (one, and the one replacing it).</summary>
    private const int QueueLimit = 4;

    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly Counter<long>? _throttledCounter;
    private long _admitted;
    private long _throttled;

    public AgentSnapshotLimiter(IOptions<IngestOptions> options, IMeterFactory? meters = null)
        : this(Create((options ?? throw new ArgumentNullException(nameof(options))).Value.RateLimit), meters)
    {
    }

    /// <summary>With a limiter of the caller's (tests control its permits).</summary>
    internal AgentSnapshotLimiter(PartitionedRateLimiter<string> limiter, IMeterFactory? meters = null)
    {
        _limiter = limiter;
        _throttledCounter = IngestMeter.Create(meters)?.CreateCounter<long>(
            "fleet.ingest.snapshots.throttled", "{snapshot}", "Snapshots that waited for their agent's rate limit");
    }

    /// <summary>Snapshots let through (at once or after waiting).</summary>
    public long Admitted => Interlocked.Read(ref _admitted);

    /// <summary>Snapshots that had to wait for a permit.</summary>
    public long Throttled => Interlocked.Read(ref _throttled);

    /// <summary>The agent's bucket now: permits available, streams waiting.</summary>
    public RateLimiterStatistics? Statistics(string agentId) => _limiter.GetStatistics(agentId);

    /// <summary>
    /// Waits until <paramref name="agentId"/> may send one more snapshot; true when it had to wait (the limit bit).
    /// </summary>
    /// <exception cref="RpcException">ResourceExhausted: more streams of this agent wait than the limiter queues.</exception>
    public async ValueTask<bool> WaitAsync(string agentId, CancellationToken ct)
    {
        using (var lease = _limiter.AttemptAcquire(agentId))
        {
            if (lease.IsAcquired)
            {
                Interlocked.Increment(ref _admitted);
                return false;
            }
        }
        Interlocked.Increment(ref _throttled);
        _throttledCounter?.Add(1);
        using var waited = await _limiter.AcquireAsync(agentId, 1, ct).ConfigureAwait(false);
        if (!waited.IsAcquired)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, "too many streams of this agent are waiting for its snapshot rate limit"));
        }
        Interlocked.Increment(ref _admitted);
        return true;
    }

    public void Dispose() => _limiter.Dispose();

    private static PartitionedRateLimiter<string> Create(IngestRateLimitOptions options)
    {
        var (tokens, period) = IngestRateLimitOptions.Refill(options.SnapshotsPerSecond, options.Burst);
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            AutoReplenishment = true,
            QueueLimit = QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        };
        // A full bucket with nobody waiting is idle: the partitioned limiter drops it, so memory follows the live agents.
        return PartitionedRateLimiter.Create<string, string>(
            agentId => RateLimitPartition.GetTokenBucketLimiter(agentId, _ => bucket),
            StringComparer.Ordinal);
    }
}

/// <summary>The meter of ingest's limits (<c>Fleet.Server.Ingest</c>), when the host has metrics.</summary>
internal static class IngestMeter
{
    public const string Name = "Fleet.Server.Ingest";

    public static Meter? Create(IMeterFactory? meters) => meters?.Create(Name);
}
