using Fleet.Server.Alerts;
using Fleet.Server.Ingest;
using Fleet.Server.Tests.Dashboard;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Tests.Alerts;

public sealed class AlertInboxTests
{
    private static readonly DateTimeOffset T0 = AlertHarness.Start;

    private static AgentRegistration Agent(string host) => new(1, 1, "agent-" + host, host, 0);

    private static AlertInbox Inbox(int capacity = 100) => new(Options.Create(new AlertOptions { MaxQueuedHosts = capacity }));

    [Fact]
    public void NewerSnapshotOfAWaitingHost_ReplacesIt_AnOlderOneDoesNot()
    {
        var inbox = Inbox();
        var first = DashboardSnapshots.Make("a", 1, T0, new Proc("api", 1, 10, 100));
        var second = DashboardSnapshots.Make("a", 2, T0.AddSeconds(10), new Proc("api", 1, 20, 100));
        var replayed = DashboardSnapshots.Make("a", 0, T0.AddSeconds(-10), new Proc("api", 1, 5, 100));
        var other = DashboardSnapshots.Make("b", 1, T0, new Proc("api", 1, 10, 100));

        inbox.Stored(Agent("a"), first);
        inbox.Stored(Agent("b"), other);
        inbox.Stored(Agent("a"), second);
        inbox.Stored(Agent("a"), replayed);
        var taken = inbox.Take(10);

        Assert.Equal([("a", second), ("b", other)], taken.Select(q => (q.Host, q.Snapshot)));
        Assert.Equal(2, inbox.Replaced);
        Assert.Equal(0, inbox.Count);
    }

    [Fact]
    public void Full_DropsSnapshotsOfFurtherHosts_AndCountsThem_ButStillReplacesWaitingOnes()
    {
        var inbox = Inbox(capacity: 2);

        inbox.Stored(Agent("a"), DashboardSnapshots.Make("a", 1, T0));
        inbox.Stored(Agent("b"), DashboardSnapshots.Make("b", 1, T0));
        inbox.Stored(Agent("c"), DashboardSnapshots.Make("c", 1, T0));
        var newerA = DashboardSnapshots.Make("a", 2, T0.AddSeconds(10));
        inbox.Stored(Agent("a"), newerA);

        Assert.Equal(1, inbox.Dropped);
        Assert.Equal(["a", "b"], inbox.Take(10).Select(q => q.Host));
    }

    [Fact]
    public async Task Take_HandsOutAtMostItsBatch_AndSignalsAgainWhileMoreWait()
    {
        var inbox = Inbox();
        foreach (string host in new[] { "a", "b", "c" })
        {
            inbox.Stored(Agent(host), DashboardSnapshots.Make(host, 1, T0));
        }

        Assert.True(await inbox.WaitAsync(CancellationToken.None).AsTask().WaitAsync(AlertHarness.Timeout));
        var first = inbox.Take(2);
        Assert.True(await inbox.WaitAsync(CancellationToken.None).AsTask().WaitAsync(AlertHarness.Timeout));
        var second = inbox.Take(2);
        inbox.Complete();

        Assert.Equal(["a", "b"], first.Select(q => q.Host));
        Assert.Equal(["c"], second.Select(q => q.Host));
        Assert.False(await inbox.WaitAsync(CancellationToken.None).AsTask().WaitAsync(AlertHarness.Timeout));
    }

    [Fact]
    public void Stored_WithNothingUsable_ReturnsWithoutThrowing()
    {
        var inbox = Inbox();

        inbox.Stored(null!, DashboardSnapshots.Make("a", 1, T0));
        inbox.Stored(Agent("a"), null!);

        Assert.Equal(0, inbox.Count);
    }
}
