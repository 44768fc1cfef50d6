namespace Fleet.Agent.Streaming;

/// <summary>
/// Capped exponential backoff with full jitter: the n-th consecutive failure waits a random time between
/// zero and min(cap, initial * 2^n), so that many agents cut off at once do not come back in step.
/// </summary>
internal sealed class ReconnectBackoff(TimeSpan initial, TimeSpan cap, Func<double>? jitter = null)
{
    private readonly Func<double> _jitter = jitter ?? Random.Shared.NextDouble;
    private int _failures;

    public static TimeSpan DefaultInitial { get; } = TimeSpan.FromSeconds(0.5);
    public static TimeSpan DefaultCap { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Consecutive failures since the last healthy stream.</summary>
    public int Failures => _failures;

    /// <summary>The upper bound of the next delay.</summary>
    public TimeSpan Ceiling
    {
        get
        {
            double ticks = initial.Ticks * Math.Pow(2, Math.Min(_failures, 62));
            return ticks >= cap.Ticks ? cap : TimeSpan.FromTicks((long)ticks);
        }
    }

    /// <summary>The delay before the next attempt; each call counts one more failure.</summary>
    public TimeSpan NextDelay()
    {
        var ceiling = Ceiling;
        _failures++;
        double fraction = Math.Clamp(_jitter(), 0, 1);
        return TimeSpan.FromTicks((long)(ceiling.Ticks * fraction));
    }

    /// <summary>After a healthy stream the next failure starts from the initial delay again.</summary>
    public void Reset() => _failures = 0;
}
