namespace Fleet.Server.Ingest;

/// <summary>
/// One open stream per agent id: a new stream of an agent cancels the one it replaces (a half-open
/// connection the agent has already given up on) and waits, for a bounded time, until that one has finished
/// the snapshot in its hands, so the snapshots of one agent are never stored by two streams at once. Each stream
/// knows the enrollment token it was opened with, so revoking a token cuts the streams of the agents using it
/// (<see cref="Revoke"/>), and a stream that authenticated just before the revocation and claims just after it is
/// cut as it opens.
/// </summary>
public sealed class AgentStreams : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Lease> _open = new(StringComparer.Ordinal);
    private readonly HashSet<long> _revoked = [];
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the server stops: every stream ends, and new ones end at once.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _open.Count;
            }
        }
    }

    public bool IsOpen(string agentId)
    {
        lock (_gate)
        {
            return _open.ContainsKey(agentId);
        }
    }

    /// <summary>The agent ids with a stream open now in this server.</summary>
    public IReadOnlySet<string> OpenAgentIds()
    {
        lock (_gate)
        {
            return new HashSet<string>(_open.Keys, StringComparer.Ordinal);
        }
    }

    /// <summary>The enrollment tokens the open streams were opened with (for the periodic revocation check).</summary>
    public IReadOnlyList<long> OpenTokenIds()
    {
        lock (_gate)
        {
            return [.. _open.Values.Select(l => l.TokenId).Where(id => id > 0).Distinct()];
        }
    }

    /// <summary>Makes the caller the agent's stream (token unknown); see <see cref="ClaimAsync(string, long, TimeSpan, CancellationToken)"/>.</summary>
    public Task<Lease> ClaimAsync(string agentId, TimeSpan takeoverTimeout, CancellationToken ct) =>
        ClaimAsync(agentId, 0, takeoverTimeout, ct);

    /// <summary>
    /// Makes the caller the agent's stream, opened with enrollment token <paramref name="tokenId"/>; true in
    /// <see cref="Lease.ReplacedAnother"/> when one was open. A token revoked meanwhile gives a lease already revoked.
    /// </summary>
    public async Task<Lease> ClaimAsync(string agentId, long tokenId, TimeSpan takeoverTimeout, CancellationToken ct)
    {
        Lease? previous;
        var lease = new Lease(this, agentId, tokenId);
        bool revoked;
        lock (_gate)
        {
            _open.TryGetValue(agentId, out previous);
            _open[agentId] = lease;
            revoked = _revoked.Contains(tokenId);
        }
        if (revoked)
        {
            lease.Revoke();
        }
        if (previous is not null)
        {
            lease.ReplacedAnother = true;
            previous.Replace();
            try
            {
                await previous.Finished.WaitAsync(takeoverTimeout, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The old stream is stuck (in storage, say): storage stores each sequence once, so going on is safe.
            }
        }
        return lease;
    }

    /// <summary>
    /// Enrollment token <paramref name="tokenId"/> was revoked: cuts every open stream opened with it (each ends with
    /// Unauthenticated, "enrollment token revoked") and any claimed later with it; returns how many were cut now.
    /// </summary>
    public int Revoke(long tokenId)
    {
        List<Lease> cut;
        lock (_gate)
        {
            _revoked.Add(tokenId);
            cut = [.. _open.Values.Where(l => l.TokenId == tokenId)];
        }
        foreach (var lease in cut)
        {
            lease.Revoke();
        }
        return cut.Count;
    }

    /// <summary>Ends every open stream (and any opened later) and completes when they have ended, or when <paramref name="ct"/> is cancelled.</summary>
    public async Task StopAllAsync(CancellationToken ct)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task[] open;
        lock (_gate)
        {
            open = [.. _open.Values.Select(l => l.Finished)];
        }
        await Task.WhenAll(open).WaitAsync(ct).ConfigureAwait(false);
    }

    public void Dispose() => _stopping.Dispose();

    private void Release(Lease lease)
    {
        lock (_gate)
        {
            if (_open.TryGetValue(lease.AgentId, out var current) && ReferenceEquals(current, lease))
            {
                _open.Remove(lease.AgentId);
            }
        }
    }

    public sealed class Lease : IDisposable
    {
        private readonly AgentStreams _owner;
        private readonly CancellationTokenSource _replaced = new();
        private readonly CancellationTokenSource _revoked = new();
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal Lease(AgentStreams owner, string agentId, long tokenId)
        {
            _owner = owner;
            AgentId = agentId;
            TokenId = tokenId;
            Replaced = _replaced.Token;
            Revoked = _revoked.Token;
        }

        public string AgentId { get; }

        /// <summary>The enrollment token the stream was opened with (0: not known).</summary>
        public long TokenId { get; }

        /// <summary>Cancelled when a newer stream of the same agent took over.</summary>
        public CancellationToken Replaced { get; }

        /// <summary>Cancelled when the stream's enrollment token was revoked.</summary>
        public CancellationToken Revoked { get; }

        public bool ReplacedAnother { get; internal set; }

        internal Task Finished => _finished.Task;

        internal void Replace() => Cancel(_replaced);

        internal void Revoke() => Cancel(_revoked);

        private static void Cancel(CancellationTokenSource source)
        {
            try
            {
                source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Finished meanwhile.
            }
        }

        public void Dispose()
        {
            _owner.Release(this);
            _finished.TrySetResult();
            _replaced.Dispose();
            _revoked.Dispose();
        }
    }
}
