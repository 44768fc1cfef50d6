using System.Collections.Concurrent;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;

namespace Fleet.Server.Tests.Ingest;

/// <summary>An in-memory <see cref="IIngestStore"/>: exactly once per (agent, sequence), with switches to fail.</summary>
internal sealed class FakeIngestStore : IIngestStore, IEnrollmentTokenCatalog
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, EnrollmentToken> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<ulong>> _committed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _agentKeys = new(StringComparer.Ordinal);
    private readonly List<(string AgentId, Snapshot Snapshot)> _stored = [];
    private readonly List<int> _batchSizes = [];
    private readonly ConcurrentQueue<TaskCompletionSource> _waiters = new();
    private long _nextId;
    private int _revocationChecks;

    /// <summary>Thrown by StoreSnapshotsAsync while set (the database is down): nothing of the batch is stored.</summary>
    public Exception? StoreFailure { get; set; }

    /// <summary>Awaited by StoreSnapshotsAsync before it stores (or fails) a batch: a test holds the writer here.</summary>
    public Func<IReadOnlyList<(AgentRegistration Agent, Snapshot Snapshot)>, Task>? BeforeStore { get; set; }

    /// <summary>The size of every batch StoreSnapshotsAsync was called with, in order.</summary>
    public IReadOnlyList<int> BatchSizes
    {
        get
        {
            lock (_gate)
            {
                return [.. _batchSizes];
            }
        }
    }

    /// <summary>Thrown by FindTokenAsync while set.</summary>
    public Exception? TokenLookupFailure { get; set; }

    public ConcurrentBag<AgentHello> Hellos { get; } = [];

    public IReadOnlyList<(string AgentId, Snapshot Snapshot)> Stored
    {
        get
        {
            lock (_gate)
            {
                return [.. _stored];
            }
        }
    }

    /// <summary>Makes a token as the CLI does and returns it in clear.</summary>
    public string AddKnownToken(string name = "test", bool revoked = false)
    {
        var (token, hash) = EnrollmentTokens.Create();
        lock (_gate)
        {
            _tokens[Convert.ToHexString(hash)] = new EnrollmentToken(++_nextId, name, DateTimeOffset.UtcNow, revoked);
        }
        return token;
    }

    /// <summary>The id of the token named <paramref name="name"/>.</summary>
    public long TokenId(string name)
    {
        lock (_gate)
        {
            return _tokens.Values.Single(t => t.Name == name).Id;
        }
    }

    /// <summary>Revokes the token named <paramref name="name"/> in storage only, as another server would.</summary>
    public void Revoke(string name)
    {
        lock (_gate)
        {
            var (key, token) = _tokens.Single(t => t.Value.Name == name);
            _tokens[key] = token with { Revoked = true };
        }
    }

    /// <summary>How many times RevokedAmongAsync was asked.</summary>
    public int RevocationChecks => Volatile.Read(ref _revocationChecks);

    public Task<IReadOnlyList<long>> RevokedAmongAsync(IReadOnlyCollection<long> tokenIds, CancellationToken ct)
    {
        Interlocked.Increment(ref _revocationChecks);
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<long>>([.. _tokens.Values.Where(t => t.Revoked && tokenIds.Contains(t.Id)).Select(t => t.Id)]);
        }
    }

    /// <summary>Marks a sequence committed for an agent, as an earlier stream would have.</summary>
    public void Commit(string agentId, ulong sequence)
    {
        lock (_gate)
        {
            Committed(agentId).Add(sequence);
        }
    }

    /// <summary>Completes once at least <paramref name="count"/> snapshots were stored.</summary>
    public async Task WaitForStoredAsync(int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(tcs);
            if (Stored.Count >= count)
            {
                return;
            }
            try
            {
                await tcs.Task.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Stored.Count} snapshots stored within {timeout}, {count} expected");
            }
        }
    }

    public Task<EnrollmentToken?> FindTokenAsync(byte[] tokenHash, CancellationToken ct)
    {
        if (TokenLookupFailure is { } failure)
        {
            throw failure;
        }
        lock (_gate)
        {
            return Task.FromResult(_tokens.GetValueOrDefault(Convert.ToHexString(tokenHash)));
        }
    }

    public Task<EnrollmentToken> AddTokenAsync(string name, byte[] tokenHash, CancellationToken ct)
    {
        lock (_gate)
        {
            var token = new EnrollmentToken(++_nextId, name, DateTimeOffset.UtcNow, false);
            _tokens[Convert.ToHexString(tokenHash)] = token;
            return Task.FromResult(token);
        }
    }

    public Task<IReadOnlyList<EnrollmentToken>> ListTokensAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<EnrollmentToken>>([.. _tokens.Values.OrderBy(t => t.Id)]);
        }
    }

    public Task<AgentRegistration> RegisterAgentAsync(AgentHello hello, CancellationToken ct)
    {
        Hellos.Add(hello);
        lock (_gate)
        {
            if (!_agentKeys.TryGetValue(hello.AgentId, out long key))
            {
                key = _agentKeys[hello.AgentId] = ++_nextId;
            }
            var committed = Committed(hello.AgentId);
            return Task.FromResult(new AgentRegistration(key, key, hello.AgentId, hello.Host.Hostname, committed.Count == 0 ? 0 : committed.Max));
        }
    }

    public async Task<IReadOnlyList<StoreOutcome>> StoreSnapshotsAsync(IReadOnlyList<(AgentRegistration Agent, Snapshot Snapshot)> batch, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _batchSizes.Add(batch.Count);
        }
        if (BeforeStore is { } before)
        {
            await before(batch);
        }
        if (StoreFailure is { } failure)
        {
            throw failure;
        }
        var outcomes = new StoreOutcome[batch.Count];
        lock (_gate)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                var (agent, snapshot) = batch[i];
                if (Committed(agent.AgentId).Add(snapshot.Sequence))
                {
                    _stored.Add((agent.AgentId, snapshot.Clone()));
                    outcomes[i] = StoreOutcome.Stored;
                }
                else
                {
                    outcomes[i] = StoreOutcome.Duplicate;
                }
            }
        }
        while (_waiters.TryDequeue(out var waiter))
        {
            waiter.TrySetResult();
        }
        return outcomes;
    }

    private SortedSet<ulong> Committed(string agentId)
    {
        if (!_committed.TryGetValue(agentId, out var set))
        {
            set = _committed[agentId] = [];
        }
        return set;
    }
}
