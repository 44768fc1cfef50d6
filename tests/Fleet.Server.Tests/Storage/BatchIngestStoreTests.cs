using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fleet.Server.Tests.Storage;

/// <summary>Batches of snapshots of many agents in one transaction: exactly once per (agent, sequence), all or nothing.</summary>
public sealed class BatchIngestStoreTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly TimeSpan Timeout = StorageHarness.Timeout;
    private static readonly DateTimeOffset CollectedAt = StorageHarness.Start.AddMinutes(-5);

    private static HostIdentity NewHost() => TestSnapshots.Host("batch-" + Guid.NewGuid().ToString("N")[..12]);

    private static Snapshot At(HostIdentity host, ulong sequence, int processes = 30) =>
        TestSnapshots.Realistic(host, sequence, CollectedAt.AddSeconds(10 * (double)sequence), processes, seed: (int)sequence);

    private Task<long> CountAsync(string table, AgentRegistration agent) =>
        harness.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE host_id = $1", (int)agent.HostKey);

    private Task<long> CommittedAsync(AgentRegistration agent) =>
        harness.ScalarAsync<long>("SELECT last_committed_sequence FROM agents WHERE id = $1", agent.AgentKey);

    [Fact]
    public async Task StoreSnapshots_ItemsOfSeveralAgents_StoresEachOnceInOneBatch()
    {
        var hosts = Enumerable.Range(0, 5).Select(_ => NewHost()).ToList();
        var agents = new List<AgentRegistration>();
        foreach (var host in hosts)
        {
            agents.Add(await harness.RegisterAsync(At(host, 1)));
        }
        var batch = hosts.Zip(agents).SelectMany(x => new[] { (x.Second, At(x.First, 1)), (x.Second, At(x.First, 2)) }).ToList();

        var outcomes = await harness.Store.StoreSnapshotsAsync(batch, CancellationToken.None).WaitAsync(Timeout);

        Assert.All(outcomes, o => Assert.Equal(StoreOutcome.Stored, o));
        foreach (var (agent, host) in agents.Zip(hosts))
        {
            Assert.Equal(2L, await CountAsync("host_samples", agent));
            Assert.Equal(24L, await CountAsync("service_samples", agent));
            Assert.Equal(2L, await CommittedAsync(agent));
            // The host keeps the newest snapshot of the batch.
            var latest = await harness.ScalarAsync<byte[]>("SELECT latest_snapshot FROM hosts WHERE id = $1", (int)agent.HostKey);
            Assert.Equal(2UL, Snapshot.Parser.ParseFrom(latest).Sequence);
            Assert.Equal(1L, await harness.ScalarAsync<long>("SELECT count(DISTINCT minute) FROM rollup_queue WHERE host_id = $1", (int)agent.HostKey));
        }
    }

    [Fact]
    public async Task StoreSnapshots_DuplicateNewAndOutOfOrderOfOneAgent_StoresOnlySequencesAboveTheLastCommittedInOrder()
    {
        var host = NewHost();
        var agent = await harness.RegisterAsync(At(host, 1));
        Assert.Equal(StoreOutcome.Stored, await harness.Store.StoreSnapshotAsync(agent, At(host, 3), CancellationToken.None).WaitAsync(Timeout));

        var outcomes = await harness.Store.StoreSnapshotsAsync(
            [(agent, At(host, 3)), (agent, At(host, 4)), (agent, At(host, 2)), (agent, At(host, 4)), (agent, At(host, 6))],
            CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal([StoreOutcome.Duplicate, StoreOutcome.Stored, StoreOutcome.Duplicate, StoreOutcome.Duplicate, StoreOutcome.Stored], outcomes);
        Assert.Equal(6L, await CommittedAsync(agent));
        var times = await harness.RowsAsync("SELECT time FROM host_samples WHERE host_id = $1 ORDER BY time", (int)agent.HostKey);
        Assert.Equal([3UL, 4UL, 6UL], times.Select(r => (ulong)(((DateTime)r[0]!) - CollectedAt.UtcDateTime).TotalSeconds / 10));
    }

    [Fact]
    public async Task StoreSnapshots_BatchOfOnlyDuplicates_StoresNothingAndChangesNothing()
    {
        var host = NewHost();
        var agent = await harness.RegisterAsync(At(host, 1));
        await harness.Store.StoreSnapshotAsync(agent, At(host, 5), CancellationToken.None).WaitAsync(Timeout);
        var seenBefore = await harness.ScalarAsync<DateTime>("SELECT last_seen FROM agents WHERE id = $1", agent.AgentKey);

        var outcomes = await harness.Store.StoreSnapshotsAsync([(agent, At(host, 5)), (agent, At(host, 4))], CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal([StoreOutcome.Duplicate, StoreOutcome.Duplicate], outcomes);
        Assert.Equal(1L, await CountAsync("host_samples", agent));
        Assert.Equal(seenBefore, await harness.ScalarAsync<DateTime>("SELECT last_seen FROM agents WHERE id = $1", agent.AgentKey));
    }

    [Fact]
    public async Task StoreSnapshots_ConcurrentBatchesOverTheSameAgents_NeverStoreASequenceTwice()
    {
        const int Agents = 4, Sequences = 12, Writers = 6;
        var hosts = Enumerable.Range(0, Agents).Select(_ => NewHost()).ToList();
        var agents = new List<AgentRegistration>();
        foreach (var host in hosts)
        {
            agents.Add(await harness.RegisterAsync(At(host, 1)));
        }
        var snapshots = hosts.Select(h => Enumerable.Range(1, Sequences).Select(s => At(h, (ulong)s, processes: 20)).ToList()).ToList();
        using var start = new ManualResetEventSlim();

        // Every writer sends every agent's sequences in order, in batches that mix the agents in its own rotation.
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            start.Wait(Timeout);
            var outcomes = new List<StoreOutcome>();
            for (int s = 0; s < Sequences; s += 3)
            {
                var batch = new List<(AgentRegistration, Snapshot)>();
                for (int k = 0; k < Agents; k++)
                {
                    int a = (k + w) % Agents;
                    for (int i = s; i < Math.Min(s + 3, Sequences); i++)
                    {
                        batch.Add((agents[a], snapshots[a][i]));
                    }
                }
                outcomes.AddRange(await harness.Store.StoreSnapshotsAsync(batch, CancellationToken.None));
            }
            return outcomes;
        })).ToArray();
        start.Set();
        var all = (await Task.WhenAll(writers).WaitAsync(Timeout)).SelectMany(o => o).ToList();

        Assert.Equal(Agents * Sequences, all.Count(o => o == StoreOutcome.Stored));
        foreach (var agent in agents)
        {
            Assert.Equal((long)Sequences, await CommittedAsync(agent));
            Assert.Equal((long)Sequences, await CountAsync("host_samples", agent));
            Assert.Equal((long)Sequences, await harness.ScalarAsync<long>("SELECT count(DISTINCT time) FROM host_samples WHERE host_id = $1", (int)agent.HostKey));
            Assert.Equal(Sequences * 12L, await CountAsync("service_samples", agent));
            Assert.Equal(12L, await harness.ScalarAsync<long>("SELECT count(*) FROM services WHERE host_id = $1", (int)agent.HostKey));
        }
    }

    [Fact]
    public async Task StoreSnapshots_OneItemRefusedByTheDatabase_StoresNothingOfTheBatch()
    {
        var good = NewHost();
        var other = NewHost();
        var goodAgent = await harness.RegisterAsync(At(good, 1));
        var otherAgent = await harness.RegisterAsync(At(other, 1));
        var bad = At(other, 1, processes: 300);
        bad.Processes.Last(p => p.CloseWaitRemotes.Count > 0).CloseWaitRemotes[0].Port = 70_000;

        var e = await Assert.ThrowsAsync<PostgresException>(() =>
            harness.Store.StoreSnapshotsAsync([(goodAgent, At(good, 1)), (otherAgent, bad)], CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(PostgresErrorCodes.CheckViolation, e.SqlState);
        foreach (var agent in new[] { goodAgent, otherAgent })
        {
            Assert.Equal(0L, await CountAsync("host_samples", agent));
            Assert.Equal(0L, await CountAsync("service_samples", agent));
            Assert.Equal(0L, await CommittedAsync(agent));
            Assert.Equal(0L, await harness.ScalarAsync<long>("SELECT count(*) FROM hosts WHERE id = $1 AND latest_snapshot IS NOT NULL", (int)agent.HostKey));
            Assert.Equal(0L, await harness.ScalarAsync<long>("SELECT count(*) FROM rollup_queue WHERE host_id = $1", (int)agent.HostKey));
        }
    }

    [Fact]
    public async Task Batcher_BatchTheDatabaseRefuses_FaultsEveryItemAndStoresNothing()
    {
        var good = NewHost();
        var other = NewHost();
        var goodAgent = await harness.RegisterAsync(At(good, 1));
        var otherAgent = await harness.RegisterAsync(At(other, 1));
        var bad = At(other, 1, processes: 300);
        bad.Processes.Last(p => p.CloseWaitRemotes.Count > 0).CloseWaitRemotes[0].Port = 70_000;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = new GatedStore(harness.Store, gate.Task);
        await using var batcher = new SnapshotBatcher(store, Options.Create(new SnapshotBatchingOptions { MaxConcurrentBatches = 1 }), NullLogger<SnapshotBatcher>.Instance);

        // The first write holds the loop, so the two snapshots queue up and go together in the second.
        var first = await batcher.SubmitAsync(new SnapshotLane(), goodAgent, At(good, 1), CancellationToken.None);
        await store.Entered.WaitAsync(Timeout);
        var goodOutcome = await batcher.SubmitAsync(new SnapshotLane(), goodAgent, At(good, 2), CancellationToken.None);
        var badOutcome = await batcher.SubmitAsync(new SnapshotLane(), otherAgent, bad, CancellationToken.None);
        gate.SetResult();

        Assert.Equal(StoreOutcome.Stored, await first.WaitAsync(Timeout));
        await Assert.ThrowsAsync<PostgresException>(() => goodOutcome.WaitAsync(Timeout));
        await Assert.ThrowsAsync<PostgresException>(() => badOutcome.WaitAsync(Timeout));
        Assert.Equal([1, 2], store.BatchSizes);
        Assert.Equal(1L, await CommittedAsync(goodAgent));
        Assert.Equal(1L, await CountAsync("host_samples", goodAgent));
        Assert.Equal(0L, await CountAsync("host_samples", otherAgent));
    }

    /// <summary>The real store, whose first call waits for a gate.</summary>
    private sealed class GatedStore(IIngestStore inner, Task gate) : IIngestStore
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<int> _sizes = [];

        public Task Entered => _entered.Task;

        public IReadOnlyList<int> BatchSizes
        {
            get
            {
                lock (_sizes)
                {
                    return [.. _sizes];
                }
            }
        }

        public async Task<IReadOnlyList<StoreOutcome>> StoreSnapshotsAsync(IReadOnlyList<(AgentRegistration Agent, Snapshot Snapshot)> batch, CancellationToken ct)
        {
            lock (_sizes)
            {
                _sizes.Add(batch.Count);
            }
            _entered.TrySetResult();
            await gate.WaitAsync(ct);
            return await inner.StoreSnapshotsAsync(batch, ct);
        }

        public Task<EnrollmentToken?> FindTokenAsync(byte[] tokenHash, CancellationToken ct) => inner.FindTokenAsync(tokenHash, ct);

        public Task<EnrollmentToken> AddTokenAsync(string name, byte[] tokenHash, CancellationToken ct) => inner.AddTokenAsync(name, tokenHash, ct);

        public Task<AgentRegistration> RegisterAgentAsync(AgentHello hello, CancellationToken ct) => inner.RegisterAgentAsync(hello, ct);
    }
}
