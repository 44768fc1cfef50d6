using Fleet.Agent.Streaming;

namespace Fleet.Agent.Tests.Streaming;

public class ReconnectBackoffTests
{
    [Fact]
    public void Delays_DoubleFromTheInitialAndStopAtTheCap()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(30), jitter: () => 1.0);

        var delays = Enumerable.Range(0, 10).Select(_ => backoff.NextDelay().TotalSeconds).ToList();

        Assert.Equal([0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30], delays);
    }

    [Fact]
    public void FullJitter_PicksWithinZeroAndTheCeiling()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), jitter: () => 0.25);

        var delays = Enumerable.Range(0, 6).Select(_ => backoff.NextDelay().TotalSeconds).ToList();

        Assert.Equal([0.25, 0.5, 1, 2, 2, 2], delays);
    }

    [Fact]
    public void Reset_AfterAHealthyStream_StartsFromTheInitialDelayAgain()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(30), jitter: () => 1.0);
        for (int i = 0; i < 8; i++)
        {
            backoff.NextDelay();
        }

        backoff.Reset();

        Assert.Equal(TimeSpan.FromSeconds(0.5), backoff.NextDelay());
    }

    [Fact]
    public void ManyFailures_NeverOverflowPastTheCap()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(30), jitter: () => 1.0);

        for (int i = 0; i < 10_000; i++)
        {
            Assert.True(backoff.NextDelay() <= TimeSpan.FromSeconds(30));
        }
    }
}
