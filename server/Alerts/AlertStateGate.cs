namespace Fleet.Server.Alerts;

/// <summary>
/// Serialises changes to alert state: the evaluator holds it while it evaluates and saves, rule edits hold it while
/// they resolve a rule's alerts. <see cref="Version"/> moves on every rule change, telling the evaluator to reload
/// rules and open alerts.
/// </summary>
public sealed class AlertStateGate : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _version;

    public long Version => Interlocked.Read(ref _version);

    public async Task<Releaser> EnterAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        return new Releaser(_gate);
    }

    public void Changed() => Interlocked.Increment(ref _version);

    public void Dispose() => _gate.Dispose();

    public readonly struct Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
