using Fleet.Web.Data;
using Microsoft.AspNetCore.Components;

namespace Fleet.Web.Live;

/// <summary>
/// A page that follows the live feed: it subscribes to its topic once interactive (never during prerender, so a
/// page is subscribed once), applies each summary on the renderer's context, re-renders at most every 100 ms,
/// re-renders every few seconds without data (so live hosts turn stale), and ends all of it when disposed.
/// </summary>
public abstract class LivePageBase : ComponentBase, IAsyncDisposable
{
    public static readonly TimeSpan RenderInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stop = new();
    private IDisposable? _subscription;
    private LiveTopic? _subscribed;
    private CallbackThrottle? _render;
    private Task _ticker = Task.CompletedTask;
    private bool _disposed;

    [Inject]
    protected TimeProvider Time { get; set; } = default!;

    [Inject]
    protected ILiveFeed Feed { get; set; } = default!;

    /// <summary>Ends with the page: pass it to every data call.</summary>
    protected CancellationToken Stopping => _stop.Token;

    protected DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>Whether the page is interactive (subscribed); false while prerendering.</summary>
    protected bool Interactive { get; private set; }

    /// <summary>What the page follows now (null: nothing, e.g. an unknown host).</summary>
    protected abstract LiveTopic? Topic { get; }

    /// <summary>Applies one summary to the page's state; runs on the renderer's context.</summary>
    protected abstract void ApplyLive(LiveSnapshot snapshot);

    /// <summary>Asks for a re-render, at most every <see cref="RenderInterval"/>.</summary>
    protected void RequestRender() => _render?.Request();

    protected override void OnAfterRender(bool firstRender)
    {
        if (_disposed)
        {
            return;
        }
        if (firstRender)
        {
            Interactive = true;
            _render = new CallbackThrottle(RenderInterval, () => InvokeAsync(StateHasChanged), Time);
            _ticker = TickAsync(_stop.Token);
            OnInteractive();
        }
        // Follow the topic the parameters name (a link from one host to another reuses the page).
        var topic = Topic;
        if (!Equals(topic, _subscribed))
        {
            _subscription?.Dispose();
            _subscription = topic is null ? null : Feed.Subscribe(topic, OnSnapshotAsync);
            _subscribed = topic;
        }
    }

    /// <summary>Called once, on the first interactive render, before the subscription.</summary>
    protected virtual void OnInteractive()
    {
    }

    private Task OnSnapshotAsync(LiveSnapshot snapshot) =>
        _stop.IsCancellationRequested ? Task.CompletedTask : InvokeAsync(() =>
        {
            if (!_stop.IsCancellationRequested && Topic is { } topic && topic.Matches(snapshot))
            {
                ApplyLive(snapshot);
                RequestRender();
            }
        });

    private async Task TickAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TickInterval, Time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                await InvokeAsync(StateHasChanged).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The page went away.
        }
    }

    /// <summary>Ends what a derived page owns (its throttles); the base ends the subscription, ticker and render throttle.</summary>
    protected virtual ValueTask DisposeCoreAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _subscription?.Dispose();
        _subscription = null;
        await _stop.CancelAsync().ConfigureAwait(false);
        _render?.Dispose();
        await DisposeCoreAsync().ConfigureAwait(false);
        await _ticker.ConfigureAwait(false);
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
