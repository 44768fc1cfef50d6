namespace Fleet.Server.Ingest;

/// <summary>
/// One open stream per agent id: a new stream of an agent cancels the one it replaces (a half-open
/// connection the agent has already given up on) and waits, for a bounded time, until that one has finished
/// the snapshot in its hands, so the snapshots of one agent are never stored by two streams at once.
/// </summary>
public sealed class AgentStreams : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Lease> _open = new(StringComparer.Ordinal);
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

    /// <summary>Makes the caller the agent's stream; true in <see cref="Lease.ReplacedAnother"/> when one was open.</summary>
    public async Task<Lease> ClaimAsync(string agentId, TimeSpan takeoverTimeout, CancellationToken ct)
    {
        Lease? previous;
        var lease = new Lease(this, agentId);
        lock (_gate)
        {
            _open.TryGetValue(agentId, out previous);
            _open[agentId] = lease;
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
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal Lease(AgentStreams owner, string agentId)
        {
            _owner = owner;
            AgentId = agentId;
            Replaced = _replaced.Token;
        }

        public string AgentId { get; }

        /// <summary>Cancelled when a newer stream of the same agent took over.</summary>
        public CancellationToken Replaced { get; }

        public bool ReplacedAnother { get; internal set; }

        internal Task Finished => _finished.Task;

        internal void Replace()
        {
            try
            {
                _replaced.Cancel();
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
        }
    }
}
