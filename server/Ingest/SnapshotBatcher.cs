using System.Diagnostics;
using System.Threading.Channels;
using Fleet.Contracts.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Ingest;

/// <summary>What a <see cref="SnapshotBatcher"/> has written so far.</summary>
public sealed record SnapshotBatcherStatistics(long Batches, long Snapshots, int LargestBatch);

/// <summary>
/// The snapshots of one stream, in the order they were submitted: they are stored in that order, and once one
/// of them fails, every later one fails too without being written (a later sequence committed before an earlier
/// one would make the earlier one a duplicate when the agent sends it again). One submitter at a time.
/// </summary>
public sealed class SnapshotLane
{
    private Task _last = Task.CompletedTask;

    /// <summary>Why the lane failed (set by the batcher's loop only).</summary>
    internal Exception? Failure { get; set; }

    internal void Submitted(Task outcome) => _last = outcome;

    /// <summary>Completes (never faults) once every snapshot submitted on this lane was written or failed.</summary>
    public Task SettledAsync() => Task.WhenAny(_last);
}

/// <summary>
/// Groups the snapshots of many streams into one storage transaction: streams submit (agent, snapshot) and await
/// its outcome; a background loop drains a bounded queue into batches of up to
/// <see cref="SnapshotBatchingOptions.MaxBatchSize"/> snapshots, or whatever arrived within
/// <see cref="SnapshotBatchingOptions.MaxDelay"/> after the first, writes each batch with
/// <see cref="IIngestStore.StoreSnapshotsAsync"/> and completes every item with its outcome, or faults them all
/// when the batch failed (nothing of it is stored; the streams end unacknowledged and the agents send the
/// snapshots again). Up to <see cref="SnapshotBatchingOptions.MaxConcurrentBatches"/> batches are written at once,
/// but never two holding the same agent: a snapshot whose agent is in a batch being written waits for the next
/// batch, so each agent's snapshots are stored in the order they came, and after a failure nothing later of the
/// same stream (<see cref="SnapshotLane"/>) is written. When the queue is full, submitters wait: the back-pressure
/// reaches the streams. Disposing drains the queue for a bounded time and faults what is left.
/// </summary>
public sealed partial class SnapshotBatcher : IAsyncDisposable
{
    /// <summary>How long disposing waits for the queued snapshots to be written before it faults them.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly IIngestStore _store;
    private readonly SnapshotBatchingOptions _options;
    private readonly ILogger _logger;
    private readonly IStoredSnapshotObserver[] _observers;
    private readonly Channel<Pending> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _batches;
    private long _snapshots;
    private int _largestBatch;

    public SnapshotBatcher(IIngestStore store, IOptions<SnapshotBatchingOptions> options, ILogger<SnapshotBatcher> logger)
        : this(store, options, logger, [])
    {
    }

    /// <summary>With observers told of each snapshot once it is committed (the live feed).</summary>
    public SnapshotBatcher(IIngestStore store, IOptions<SnapshotBatchingOptions> options, ILogger<SnapshotBatcher> logger, IEnumerable<IStoredSnapshotObserver> observers)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options.Value;
        _logger = logger;
        _observers = [.. observers];
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loop = Task.Run(RunAsync);
    }

    public SnapshotBatchingOptions Options => _options;

    public SnapshotBatcherStatistics Statistics =>
        new(Interlocked.Read(ref _batches), Interlocked.Read(ref _snapshots), Volatile.Read(ref _largestBatch));

    /// <summary>
    /// Queues a snapshot on its stream's lane, waiting while the queue is full; returns the task of its outcome
    /// (faulted when its batch failed). Submit a lane's snapshots one after the other, in the order to store them.
    /// </summary>
    public async ValueTask<Task<StoreOutcome>> SubmitAsync(SnapshotLane lane, AgentRegistration agent, Snapshot snapshot, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(lane);
        var pending = new Pending(lane, agent, snapshot, Stopwatch.GetTimestamp());
        try
        {
            await _queue.Writer.WriteAsync(pending, ct).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            throw new InvalidOperationException("ingest is stopping: the snapshot was not stored", e);
        }
        lane.Submitted(pending.Outcome.Task);
        return pending.Outcome.Task;
    }

    /// <summary>Stores one snapshot on a lane of its own and waits for its outcome.</summary>
    public async Task<StoreOutcome> StoreAsync(AgentRegistration agent, Snapshot snapshot, CancellationToken ct)
    {
        var outcome = await SubmitAsync(new SnapshotLane(), agent, snapshot, ct).ConfigureAwait(false);
        return await outcome.WaitAsync(ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(DrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
        }
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var stop = _stop.Token;
        var reader = _queue.Reader;
        var batching = new Batching(_options.MaxBatchSize);
        var writing = new List<(Task Task, List<Pending> Batch)>();
        Task<bool>? readable = null;
        bool open = true;
        try
        {
            while (true)
            {
                foreach (var done in writing.Where(w => w.Task.IsCompleted).ToList())
                {
                    writing.Remove(done);
                    batching.Written(done.Batch);
                }
                if (writing.Count >= _options.MaxConcurrentBatches)
                {
                    await Task.WhenAny(writing.Select(w => w.Task)).ConfigureAwait(false);
                    continue;
                }
                batching.TakeHeldBack();
                if (open)
                {
                    Read(reader, batching);
                }
                if (batching.Batch.Count == 0)
                {
                    if (!open && writing.Count == 0)
                    {
                        return;
                    }
                    // Nothing to write yet: wait for a snapshot, or for a batch to finish (which frees the ones held back).
                    var waits = writing.Select(w => w.Task).ToList();
                    if (open && batching.HeldBackCount < _options.QueueCapacity)
                    {
                        readable ??= reader.WaitToReadAsync(stop).AsTask();
                        waits.Add(readable);
                    }
                    var woke = await Task.WhenAny(waits).ConfigureAwait(false);
                    if (woke == readable)
                    {
                        open = await readable.ConfigureAwait(false);
                        readable = null;
                    }
                    continue;
                }
                if (open)
                {
                    await FillAsync(reader, batching, stop).ConfigureAwait(false);
                }
                var batch = batching.Start();
                writing.Add((Task.Run(() => WriteAsync(batch, stop), CancellationToken.None), batch));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Disposed and the drain timed out: what is left fails below.
        }
        finally
        {
            // Batches being written complete (or fail) their own snapshots.
            await Task.WhenAll(writing.Select(w => w.Task)).ConfigureAwait(false);
            var stopped = new InvalidOperationException("ingest stopped before the snapshot was stored");
            foreach (var p in batching.Batch.Concat(batching.HeldBack))
            {
                Fail(p, stopped);
            }
            while (reader.TryRead(out var p))
            {
                Fail(p, stopped);
            }
        }
    }

    /// <summary>Takes what is queued into the batch (or holds it back), as long as the batch has room and not too much is held back.</summary>
    private void Read(ChannelReader<Pending> reader, Batching batching)
    {
        while (!batching.Full && batching.HeldBackCount < _options.QueueCapacity && reader.TryRead(out var p))
        {
            batching.Add(p);
        }
    }

    /// <summary>Waits until the batch is full or MaxDelay after its first snapshot arrived, taking what comes.</summary>
    private async Task FillAsync(ChannelReader<Pending> reader, Batching batching, CancellationToken stop)
    {
        var left = _options.MaxDelay - Stopwatch.GetElapsedTime(batching.Batch[0].QueuedAt);
        if (batching.Full || left <= TimeSpan.Zero)
        {
            return;
        }
        using var window = CancellationTokenSource.CreateLinkedTokenSource(stop);
        window.CancelAfter(left);
        try
        {
            while (!batching.Full && batching.HeldBackCount < _options.QueueCapacity && await reader.WaitToReadAsync(window.Token).ConfigureAwait(false))
            {
                Read(reader, batching);
            }
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            // The window is over.
        }
    }

    private async Task WriteAsync(List<Pending> batch, CancellationToken stop)
    {
        var live = new List<Pending>(batch.Count);
        foreach (var p in batch)
        {
            if (p.Lane.Failure is { } earlier)
            {
                Fail(p, new InvalidOperationException("an earlier snapshot of this stream was not stored", earlier));
            }
            else
            {
                live.Add(p);
            }
        }
        if (live.Count == 0)
        {
            return;
        }
        long started = Stopwatch.GetTimestamp();
        try
        {
            var outcomes = await _store.StoreSnapshotsAsync([.. live.Select(p => (p.Agent, p.Snapshot))], stop).ConfigureAwait(false);
            Complete(live, outcomes);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                int duplicates = outcomes.Count(o => o == StoreOutcome.Duplicate);
                double milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                LogBatchStored(_logger, live.Count, duplicates, milliseconds);
            }
        }
        catch (ArgumentException e) when (live.Count > 1)
        {
            // One of them cannot be stored: the others go alone, so only that one (and its lane) fails.
            LogBatchSplit(_logger, e, live.Count);
            await WriteOneByOneAsync(live, stop).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            int agents = live.DistinctBy(p => p.Agent.AgentKey).Count();
            LogBatchFailed(_logger, e, live.Count, agents);
            foreach (var p in live)
            {
                Fail(p, e);
            }
        }
    }

    private async Task WriteOneByOneAsync(List<Pending> items, CancellationToken stop)
    {
        foreach (var p in items)
        {
            if (p.Lane.Failure is { } earlier)
            {
                Fail(p, new InvalidOperationException("an earlier snapshot of this stream was not stored", earlier));
                continue;
            }
            try
            {
                Complete([p], await _store.StoreSnapshotsAsync([(p.Agent, p.Snapshot)], stop).ConfigureAwait(false));
            }
            catch (Exception e)
            {
                Fail(p, e);
            }
        }
    }

    private void Complete(List<Pending> items, IReadOnlyList<StoreOutcome> outcomes)
    {
        if (outcomes.Count != items.Count)
        {
            throw new InvalidOperationException($"the store returned {outcomes.Count} outcomes for {items.Count} snapshots");
        }
        for (int i = 0; i < items.Count; i++)
        {
            if (outcomes[i] == StoreOutcome.Stored)
            {
                foreach (var observer in _observers)
                {
                    observer.Stored(items[i].Agent, items[i].Snapshot);
                }
            }
            items[i].Outcome.TrySetResult(outcomes[i]);
        }
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _snapshots, items.Count);
        int largest = Volatile.Read(ref _largestBatch);
        while (items.Count > largest)
        {
            int seen = Interlocked.CompareExchange(ref _largestBatch, items.Count, largest);
            largest = seen == largest ? items.Count : seen;
        }
    }

    private static void Fail(Pending p, Exception e)
    {
        p.Lane.Failure ??= e;
        if (p.Outcome.TrySetException(e))
        {
            // Observed here: a stream that ended meanwhile no longer awaits it.
            _ = p.Outcome.Task.Exception;
        }
    }

    /// <summary>
    /// The batch being formed, and the snapshots held back from it: those of agents that have a snapshot in a batch
    /// being written (or held back already), so that an agent's snapshots are stored one batch after the other, in
    /// the order they came. Used by the loop only.
    /// </summary>
    private sealed class Batching(int maxBatchSize)
    {
        private readonly HashSet<long> _writing = [];
        private readonly Dictionary<long, int> _heldBackAgents = [];

        public List<Pending> Batch { get; private set; } = new(maxBatchSize);

        public List<Pending> HeldBack { get; } = [];

        public int HeldBackCount => HeldBack.Count;

        public bool Full => Batch.Count >= maxBatchSize;

        public void Add(Pending p)
        {
            long agent = p.Agent.AgentKey;
            if (_writing.Contains(agent) || _heldBackAgents.ContainsKey(agent))
            {
                HeldBack.Add(p);
                _heldBackAgents[agent] = _heldBackAgents.GetValueOrDefault(agent) + 1;
            }
            else
            {
                Batch.Add(p);
            }
        }

        /// <summary>Moves the held-back snapshots whose agents are free into the batch, in order, while it has room.</summary>
        public void TakeHeldBack()
        {
            for (int i = 0; i < HeldBack.Count && !Full; i++)
            {
                var p = HeldBack[i];
                long agent = p.Agent.AgentKey;
                if (_writing.Contains(agent))
                {
                    continue;
                }
                Batch.Add(p);
                HeldBack.RemoveAt(i--);
                if (--_heldBackAgents[agent] == 0)
                {
                    _heldBackAgents.Remove(agent);
                }
            }
        }

        /// <summary>The formed batch, to be written: its agents are busy until <see cref="Written"/>.</summary>
        public List<Pending> Start()
        {
            var batch = Batch;
            foreach (var p in batch)
            {
                _writing.Add(p.Agent.AgentKey);
            }
            Batch = new List<Pending>(maxBatchSize);
            return batch;
        }

        public void Written(List<Pending> batch)
        {
            foreach (var p in batch)
            {
                _writing.Remove(p.Agent.AgentKey);
            }
        }
    }

    private sealed class Pending(SnapshotLane lane, AgentRegistration agent, Snapshot snapshot, long queuedAt)
    {
        public SnapshotLane Lane { get; } = lane;

        public AgentRegistration Agent { get; } = agent;

        public Snapshot Snapshot { get; } = snapshot;

        public long QueuedAt { get; } = queuedAt;

        public TaskCompletionSource<StoreOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stored a batch of {Count} snapshots ({Duplicates} duplicates) in {Milliseconds:0.0} ms")]
    private static partial void LogBatchStored(ILogger logger, int count, int duplicates, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} snapshots holds one that cannot be stored: storing them one by one")]
    private static partial void LogBatchSplit(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing a batch of {Count} snapshots of {Agents} agents failed: nothing of it was stored, their streams end unacknowledged")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count, int agents);
}
