using System.Threading.RateLimiting;

namespace Fleet.Server.Tests.Ingest;

/// <summary>
/// Permits per agent that come back only when the test says so (<see cref="Refill"/>): a bucket of
/// <paramref name="burst"/> that serves waiters oldest first, as the production token bucket does, without a clock.
/// </summary>
internal sealed class ManualAgentBuckets(int burst) : PartitionedRateLimiter<string>
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>One permit back into the agent's bucket: to its oldest waiter, or kept (up to the burst).</summary>
    public void Refill(string agentId)
    {
        TaskCompletionSource<RateLimitLease>? waiter = null;
        lock (_gate)
        {
            var bucket = Get(agentId);
            while (bucket.Waiters.Count > 0 && waiter is null)
            {
                var next = bucket.Waiters.Dequeue();
                if (!next.Task.IsCompleted)
                {
                    waiter = next;
                }
            }
            if (waiter is null)
            {
                bucket.Available = Math.Min(burst, bucket.Available + 1);
            }
        }
        waiter?.TrySetResult(Lease.Acquired);
    }

    public override RateLimiterStatistics? GetStatistics(string resource)
    {
        lock (_gate)
        {
            var bucket = Get(resource);
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = bucket.Available,
                CurrentQueuedCount = bucket.Waiters.Count(w => !w.Task.IsCompleted),
            };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(string resource, int permitCount)
    {
        lock (_gate)
        {
            return TryTake(Get(resource), permitCount) ? Lease.Acquired : Lease.Refused;
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(string resource, int permitCount, CancellationToken cancellationToken)
    {
        TaskCompletionSource<RateLimitLease> waiter;
        lock (_gate)
        {
            var bucket = Get(resource);
            if (TryTake(bucket, permitCount))
            {
                return ValueTask.FromResult<RateLimitLease>(Lease.Acquired);
            }
            waiter = new TaskCompletionSource<RateLimitLease>(TaskCreationOptions.RunContinuationsAsynchronously);
            bucket.Waiters.Enqueue(waiter);
        }
        var registration = cancellationToken.Register(() => waiter.TrySetCanceled(cancellationToken));
        return new ValueTask<RateLimitLease>(waiter.Task.ContinueWith(
            t =>
            {
                registration.Dispose();
                return t;
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default).Unwrap());
    }

    private static bool TryTake(Bucket bucket, int permits)
    {
        if (bucket.Waiters.All(w => w.Task.IsCompleted) && bucket.Available >= permits)
        {
            bucket.Available -= permits;
            return true;
        }
        return false;
    }

    private Bucket Get(string agentId)
    {
        if (!_buckets.TryGetValue(agentId, out var bucket))
        {
            bucket = _buckets[agentId] = new Bucket { Available = burst };
        }
        return bucket;
    }

    private sealed class Bucket
    {
        public int Available { get; set; }

        public Queue<TaskCompletionSource<RateLimitLease>> Waiters { get; } = new();
    }

    private sealed class Lease(bool acquired) : RateLimitLease
    {
        public static readonly Lease Acquired = new(true);
        public static readonly Lease Refused = new(false);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
