using Fleet.Web.Live;
using Fleet.Web.Tests.Fakes;

namespace Fleet.Web.Tests.Live;

public sealed class CallbackThrottleTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private sealed class Counter : IDisposable
    {
        private readonly SemaphoreSlim _ran = new(0);
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public Task Callback()
        {
            Interlocked.Increment(ref _runs);
            _ran.Release();
            return Task.CompletedTask;
        }

        public Task<bool> WaitForRunAsync() => _ran.WaitAsync(Wait);

        public void Dispose() => _ran.Dispose();
    }

    [Fact]
    public async Task FirstRequest_RunsAtOnce()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        using var counter = new Counter();
        using var throttle = new CallbackThrottle(Interval, counter.Callback, clock);

        throttle.Request();

        Assert.True(await counter.WaitForRunAsync());
        Assert.Equal(1, counter.Runs);
    }

    [Fact]
    public async Task RequestsWithinTheInterval_CollapseIntoOneRunAtItsEnd()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        using var counter = new Counter();
        using var throttle = new CallbackThrottle(Interval, counter.Callback, clock);
        throttle.Request();
        Assert.True(await counter.WaitForRunAsync());

        throttle.Request();
        throttle.Request();
        throttle.Request();
        clock.Advance(Interval);

        Assert.True(await counter.WaitForRunAsync());
        Assert.Equal(2, counter.Runs);
    }

    [Fact]
    public async Task Dispose_CancelsAPendingRun()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        using var counter = new Counter();
        var throttle = new CallbackThrottle(Interval, counter.Callback, clock);
        throttle.Request();
        Assert.True(await counter.WaitForRunAsync());
        throttle.Request();
        Assert.Equal(1, clock.ActiveTimers); // the pending run waits for the interval's end

        throttle.Dispose();

        // The pending run's timer goes away, so nothing is left to fire; a request after dispose starts nothing.
        Assert.True(SpinWait.SpinUntil(() => clock.ActiveTimers == 0, Wait));
        throttle.Request();
        Assert.Equal(0, clock.ActiveTimers);
        Assert.Equal(1, counter.Runs);
    }
}
