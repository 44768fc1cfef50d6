namespace Fleet.Web.Live;

/// <summary>
/// Runs a callback at most once per interval however often it is requested: the first request runs at once, the
/// requests during the following interval collapse into one run at its end. Dispose cancels a pending run.
/// </summary>
public sealed class CallbackThrottle : IDisposable
{
    private readonly TimeSpan _interval;
    private readonly Func<Task> _callback;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private DateTimeOffset _lastRun = DateTimeOffset.MinValue;
    private bool _pending;

    public CallbackThrottle(TimeSpan interval, Func<Task> callback, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentNullException.ThrowIfNull(time);
        _interval = interval;
        _callback = callback;
        _time = time;
    }

    public void Request()
    {
        TimeSpan delay;
        lock (_gate)
        {
            if (_pending || _stop.IsCancellationRequested)
            {
                return;
            }
            _pending = true;
            var due = _lastRun == DateTimeOffset.MinValue ? _time.GetUtcNow() : _lastRun + _interval;
            delay = due - _time.GetUtcNow();
        }
        _ = RunAsync(delay);
    }

    private async Task RunAsync(TimeSpan delay)
    {
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
            }
            lock (_gate)
            {
                _pending = false;
                _lastRun = _time.GetUtcNow();
            }
            if (!_stop.IsCancellationRequested)
            {
                await _callback().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed while waiting: the run is no longer wanted.
        }
        catch (ObjectDisposedException) when (_stop.IsCancellationRequested)
        {
            // The component went away during the run.
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stop.Cancel();
        }
        _stop.Dispose();
    }
}
