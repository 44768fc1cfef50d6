using System.Collections.Concurrent;
using System.Threading.Channels;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fleet.Server.Tests.Ingest;

public sealed class SnapshotBatcherTests
{
    private static readonly TimeSpan Timeout = TestStream.Timeout;

    private readonly FakeIngestStore _store = new();
    private readonly ListLogger<SnapshotBatcher> _log = new();

    private SnapshotBatcher NewBatcher(int maxBatchSize = 64, int queueCapacity = 256, int concurrent = 2, int delayMs = 20) =>
        new(_store, Options.Create(new SnapshotBatchingOptions
        {
            MaxBatchSize = maxBatchSize,
            QueueCapacity = queueCapacity,
            MaxConcurrentBatches = concurrent,
            MaxDelay = TimeSpan.FromMilliseconds(delayMs),
        }), _log);

    private static AgentRegistration Agent(int n) => new(n, n, $"agent-{n}", $"host-{n}", 0);

    /// <summary>Holds every write at a gate until released; tells when a write is waiting there.</summary>
    private sealed class Gate
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Channel<bool> _entered = Channel.CreateUnbounded<bool>();

        public Func<IReadOnlyList<(AgentRegistration Agent, Snapshot Snapshot)>, Task> Hook => async _ =>
        {
            _entered.Writer.TryWrite(true);
            await _open.Task;
        };

        /// <summary>Completes when a write has reached the gate.</summary>
        public async Task EnteredAsync()
        {
            using var cts = new CancellationTokenSource(Timeout);
            await _entered.Reader.ReadAsync(cts.Token);
        }

        public void Open() => _open.TrySetResult();
    }

    [Fact]
    public async Task ConcurrentSubmissions_WhileAWriteIsInProgress_AreWrittenTogetherInOneBatch()
    {
        var gate = new Gate();
        _store.BeforeStore = gate.Hook;
        await using var batcher = NewBatcher(concurrent: 1);
        var first = await batcher.SubmitAsync(new SnapshotLane(), Agent(100), TestSnapshots.Valid(1), CancellationToken.None);
        await gate.EnteredAsync();

        var submitted = await Task.WhenAll(Enumerable.Range(1, 10).Select(i => Task.Run(async () =>
            await batcher.SubmitAsync(new SnapshotLane(), Agent(i), TestSnapshots.Valid(1), CancellationToken.None)))).WaitAsync(Timeout);
        gate.Open();

        Assert.Equal(StoreOutcome.Stored, await first.WaitAsync(Timeout));
        Assert.All(await Task.WhenAll(submitted).WaitAsync(Timeout), o => Assert.Equal(StoreOutcome.Stored, o));
        Assert.Equal([1, 10], _store.BatchSizes);
        Assert.Equal(10, batcher.Statistics.LargestBatch);
        Assert.Equal(11, _store.Stored.Count);
    }

    [Fact]
    public async Task FullQueue_MakesSubmittersWaitUntilTheWriterTakesMore()
    {
        var gate = new Gate();
        _store.BeforeStore = gate.Hook;
        await using var batcher = NewBatcher(maxBatchSize: 4, queueCapacity: 4, concurrent: 1, delayMs: 0);
        var lane = new SnapshotLane();
        var outcomes = new List<Task<StoreOutcome>> { await batcher.SubmitAsync(lane, Agent(1), TestSnapshots.Valid(1), CancellationToken.None) };
        await gate.EnteredAsync();
        // The writer holds the first; the queue takes four more.
        for (ulong seq = 2; seq <= 5; seq++)
        {
            outcomes.Add(await batcher.SubmitAsync(lane, Agent(1), TestSnapshots.Valid(seq), CancellationToken.None).AsTask().WaitAsync(Timeout));
        }

        var blocked = batcher.SubmitAsync(lane, Agent(1), TestSnapshots.Valid(6), CancellationToken.None).AsTask();

        Assert.False(blocked.IsCompleted);
        gate.Open();
        outcomes.Add(await blocked.WaitAsync(Timeout));
        Assert.All(await Task.WhenAll(outcomes).WaitAsync(Timeout), o => Assert.Equal(StoreOutcome.Stored, o));
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (ulong)i), _store.Stored.Select(s => s.Snapshot.Sequence));
    }

    [Fact]
    public async Task FullQueue_WaitingSubmitter_CanGiveUpWithItsCancellation()
    {
        var gate = new Gate();
        _store.BeforeStore = gate.Hook;
        await using var batcher = NewBatcher(maxBatchSize: 1, queueCapacity: 1, concurrent: 1, delayMs: 0);
        var first = await batcher.SubmitAsync(new SnapshotLane(), Agent(1), TestSnapshots.Valid(1), CancellationToken.None);
        await gate.EnteredAsync();
        var queued = await batcher.SubmitAsync(new SnapshotLane(), Agent(2), TestSnapshots.Valid(1), CancellationToken.None);
        using var cts = new CancellationTokenSource();

        var blocked = batcher.SubmitAsync(new SnapshotLane(), Agent(3), TestSnapshots.Valid(1), cts.Token).AsTask();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.WaitAsync(Timeout));
        gate.Open();
        Assert.Equal(StoreOutcome.Stored, await first.WaitAsync(Timeout));
        Assert.Equal(StoreOutcome.Stored, await queued.WaitAsync(Timeout));
        Assert.DoesNotContain(_store.Stored, s => s.AgentId == "agent-3");
    }

    [Fact]
    public async Task FailingBatch_FaultsEveryItem_AndLaterSnapshotsOfItsLanesFailWithoutBeingWritten()
    {
        var gate = new Gate();
        _store.BeforeStore = gate.Hook;
        _store.StoreFailure = new NpgsqlException("connection refused");
        await using var batcher = NewBatcher(maxBatchSize: 2, concurrent: 1);
        var laneA = new SnapshotLane();
        var laneB = new SnapshotLane();
        // The writer is held on another stream's snapshot while A1, B1 and A2 queue up: then [A1, B1] and [A2].
        var other = await batcher.SubmitAsync(new SnapshotLane(), Agent(9), TestSnapshots.Valid(1), CancellationToken.None);
        await gate.EnteredAsync();
        var a1 = await batcher.SubmitAsync(laneA, Agent(1), TestSnapshots.Valid(1), CancellationToken.None);
        var b1 = await batcher.SubmitAsync(laneB, Agent(2), TestSnapshots.Valid(1), CancellationToken.None);
        var a2 = await batcher.SubmitAsync(laneA, Agent(1), TestSnapshots.Valid(2), CancellationToken.None);

        gate.Open();

        await Assert.ThrowsAsync<NpgsqlException>(() => other.WaitAsync(Timeout));
        await Assert.ThrowsAsync<NpgsqlException>(() => a1.WaitAsync(Timeout));
        await Assert.ThrowsAsync<NpgsqlException>(() => b1.WaitAsync(Timeout));
        var later = await Assert.ThrowsAsync<InvalidOperationException>(() => a2.WaitAsync(Timeout));
        Assert.IsType<NpgsqlException>(later.InnerException);
        Assert.Equal([1, 2], _store.BatchSizes);
        Assert.Empty(_store.Stored);
        await laneA.SettledAsync().WaitAsync(Timeout);
        // The database is back: a new stream of the agent (a new lane) is stored.
        _store.StoreFailure = null;
        Assert.Equal(StoreOutcome.Stored, await batcher.StoreAsync(Agent(1), TestSnapshots.Valid(1), CancellationToken.None).WaitAsync(Timeout));
    }

    private sealed class RecordingObserver : IStoredSnapshotObserver
    {
        public ConcurrentQueue<(string Agent, ulong Sequence)> Seen { get; } = new();

        public void Stored(AgentRegistration agent, Snapshot snapshot) => Seen.Enqueue((agent.AgentId, snapshot.Sequence));
    }

    [Fact]
    public async Task Observers_AreToldOfCommittedSnapshotsOnly_NotOfDuplicatesOrFailedBatches()
    {
        var observer = new RecordingObserver();
        await using var batcher = new SnapshotBatcher(_store, Options.Create(new SnapshotBatchingOptions()), _log, [observer]);

        Assert.Equal(StoreOutcome.Stored, await batcher.StoreAsync(Agent(1), TestSnapshots.Valid(1), CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(StoreOutcome.Duplicate, await batcher.StoreAsync(Agent(1), TestSnapshots.Valid(1), CancellationToken.None).WaitAsync(Timeout));
        _store.StoreFailure = new NpgsqlException("connection refused");
        await Assert.ThrowsAsync<NpgsqlException>(() => batcher.StoreAsync(Agent(1), TestSnapshots.Valid(2), CancellationToken.None).WaitAsync(Timeout));
        _store.StoreFailure = null;
        Assert.Equal(StoreOutcome.Stored, await batcher.StoreAsync(Agent(1), TestSnapshots.Valid(3), CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal([("agent-1", 1ul), ("agent-1", 3ul)], observer.Seen);
    }

    [Fact]
    public async Task BatchWithASnapshotTheStoreCannotTake_StoresTheOthersOneByOne()
    {
        // Agent 2's snapshot holds a value the store refuses (as an ArgumentException) in any batch.
        _store.BeforeStore = batch => batch.Any(i => i.Agent.AgentKey == 2)
            ? throw new ArgumentException("processes[0].close_wait_remotes[0].address: 'x' is not an IP address")
            : Task.CompletedTask;
        await using var batcher = NewBatcher(concurrent: 1, delayMs: 200);
        var outcomes = new List<Task<StoreOutcome>>();
        for (int agent = 1; agent <= 3; agent++)
        {
            outcomes.Add(await batcher.SubmitAsync(new SnapshotLane(), Agent(agent), TestSnapshots.Valid(1), CancellationToken.None));
        }

        Assert.Equal(StoreOutcome.Stored, await outcomes[0].WaitAsync(Timeout));
        await Assert.ThrowsAsync<ArgumentException>(() => outcomes[1].WaitAsync(Timeout));
        Assert.Equal(StoreOutcome.Stored, await outcomes[2].WaitAsync(Timeout));
        Assert.Equal(["agent-1", "agent-3"], _store.Stored.Select(s => s.AgentId).Order());
    }

    [Fact]
    public async Task ConcurrentBatches_NeverHoldOneAgentTwice_SoEachLaneIsStoredInOrder()
    {
        var writing = new ConcurrentDictionary<long, int>();
        int overlaps = 0;
        _store.BeforeStore = async batch =>
        {
            foreach (long agent in batch.Select(i => i.Agent.AgentKey).Distinct())
            {
                if (writing.AddOrUpdate(agent, 1, (_, n) => n + 1) > 1)
                {
                    Interlocked.Increment(ref overlaps);
                }
            }
            await Task.Yield();
            foreach (long agent in batch.Select(i => i.Agent.AgentKey).Distinct())
            {
                writing.AddOrUpdate(agent, 0, (_, n) => n - 1);
            }
        };
        await using var batcher = NewBatcher(maxBatchSize: 8, concurrent: 3, delayMs: 1);
        const int Agents = 6, Sequences = 40;

        var streams = Enumerable.Range(1, Agents).Select(a => Task.Run(async () =>
        {
            var lane = new SnapshotLane();
            var inFlight = new Queue<Task<StoreOutcome>>();
            for (ulong seq = 1; seq <= Sequences; seq++)
            {
                if (inFlight.Count == 8)
                {
                    Assert.Equal(StoreOutcome.Stored, await inFlight.Dequeue());
                }
                inFlight.Enqueue(await batcher.SubmitAsync(lane, Agent(a), TestSnapshots.Valid(seq), CancellationToken.None));
            }
            while (inFlight.Count > 0)
            {
                Assert.Equal(StoreOutcome.Stored, await inFlight.Dequeue());
            }
        })).ToArray();
        await Task.WhenAll(streams).WaitAsync(Timeout);

        Assert.Equal(0, overlaps);
        foreach (var agent in Enumerable.Range(1, Agents))
        {
            Assert.Equal(
                Enumerable.Range(1, Sequences).Select(i => (ulong)i),
                _store.Stored.Where(s => s.AgentId == $"agent-{agent}").Select(s => s.Snapshot.Sequence));
        }
    }

    [Fact]
    public async Task Dispose_WritesWhatIsQueuedBeforeItEnds()
    {
        var gate = new Gate();
        _store.BeforeStore = gate.Hook;
        var batcher = NewBatcher(concurrent: 1);
        var lane = new SnapshotLane();
        var first = await batcher.SubmitAsync(lane, Agent(1), TestSnapshots.Valid(1), CancellationToken.None);
        await gate.EnteredAsync();
        var second = await batcher.SubmitAsync(lane, Agent(1), TestSnapshots.Valid(2), CancellationToken.None);

        var disposing = batcher.DisposeAsync().AsTask();
        gate.Open();
        await disposing.WaitAsync(Timeout);

        Assert.Equal(StoreOutcome.Stored, await first.WaitAsync(Timeout));
        Assert.Equal(StoreOutcome.Stored, await second.WaitAsync(Timeout));
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await batcher.SubmitAsync(lane, Agent(1), TestSnapshots.Valid(3), CancellationToken.None));
    }
}
