using Fleet.Server.Projection;
using Fleet.Server.Tests.Dashboard;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;
using static Fleet.Server.Tests.Projection.Job.ProjectionJobHarness;

namespace Fleet.Server.Tests.Projection.Job;

/// <summary>Passes after passes on a controlled clock: what a later pass reads, keeps and removes.</summary>
public sealed class ProjectionJobPassesTests(ProjectionJobHarness harness) : IClassFixture<ProjectionJobHarness>
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task LaterPasses_ReadOnlyTheNewMinutes_SeeNewSamples_AndRemoveInstancesNotSeenInTheLookback()
    {
        var now = Start;
        harness.Clock.Now = now;
        // "kept" leaks 30/h over the last 12 h and goes on; "gone" sent its last sample 20 h ago.
        await harness.Storage.StoreAsync(Make("pp-host", 1, now, new Proc("kept", 10, 400, 4096)));
        await harness.Storage.StoreAsync(Make("pp-old", 1, now.AddHours(-20), new Proc("gone", 20, 100, 4096)));
        int host = await harness.HostIdAsync("pp-host");
        int kept = await harness.ServiceIdAsync("pp-host", "kept");
        int oldHost = await harness.HostIdAsync("pp-old");
        int gone = await harness.ServiceIdAsync("pp-old", "gone");
        int Fds(DateTimeOffset t) => (int)Math.Round(400 - 30 * (Start - t).TotalHours);
        await harness.WriteInstanceAsync(host, kept, 10, 4096, 524288, Every(Step, now.AddHours(-12), now).Select(t => (t, Fds(t))));
        await harness.WriteInstanceAsync(oldHost, gone, 20, 4096, 524288, Every(Step, now.AddHours(-22), now.AddHours(-20)).Select(t => (t, 100)));
        var job = harness.NewJob();

        var first = await job.RunPassAsync(CancellationToken.None).WaitAsync(TestTimeout);
        var before = await harness.Store.ServiceAsync("gone", CancellationToken.None).WaitAsync(TestTimeout);

        Assert.True(first.FullRead);
        Assert.Single(before, p => p.Pid is null);

        // Ten minutes later, with the leak gone on (one sample every 30 s): a pass reads only the new minutes and the overlap.
        var later = now.AddMinutes(10);
        await harness.WriteInstanceAsync(host, kept, 10, 4096, 524288, Every(Step, now.AddSeconds(30), later.AddSeconds(1)).Select(t => (t, Fds(t))));
        harness.Clock.Now = later;
        var second = await job.RunPassAsync(CancellationToken.None).WaitAsync(TestTimeout);
        var keptNow = Assert.Single(await harness.Store.ServiceAsync("kept", CancellationToken.None).WaitAsync(TestTimeout), p => p.Pid is null);

        Assert.False(second.FullRead);
        Assert.True(second.RowsRead < first.RowsRead / 10, $"{second.RowsRead} rows read against {first.RowsRead} in the first pass");
        Assert.Equal(later, keptNow.ComputedAt);
        Assert.Equal(LeakVerdict.Leak, keptNow.Verdict);
        Assert.InRange(keptNow.CurrentFds, Fds(later) - 5, Fds(later) + 5);

        // Five hours later "gone" is 25 h old: out of the 24 h lookback, its row leaves the table; "kept" stays (quiet for 5 h, projected at its last sample).
        harness.Clock.Now = now.AddHours(5);
        var third = await job.RunPassAsync(CancellationToken.None).WaitAsync(TestTimeout);
        var after = await harness.Store.ServiceAsync("gone", CancellationToken.None).WaitAsync(TestTimeout);
        var keptLater = Assert.Single(await harness.Store.ServiceAsync("kept", CancellationToken.None).WaitAsync(TestTimeout), p => p.Pid is null);

        Assert.True(third.Deleted >= 1);
        Assert.Empty(after);
        Assert.Equal(0L, await harness.Storage.ScalarAsync<long>("SELECT count(*) FROM projections WHERE service_id = $1", gone));
        Assert.InRange(keptLater.ComputedAt, later.AddMinutes(-1), later);
    }

    [Fact]
    public void Options_OutOfRange_AreAllNamedAtOnce()
    {
        var result = new ValidateProjectionJobOptions().Validate(null, new ProjectionJobOptions { Interval = TimeSpan.Zero, Lookback = TimeSpan.FromMinutes(5) });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("Fleet:Projection:Interval", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Fleet:Projection:Lookback", StringComparison.Ordinal));
        Assert.True(new ValidateProjectionJobOptions().Validate(null, new ProjectionJobOptions()).Succeeded);
    }

    [Fact]
    public void Options_AreBoundFromFleetProjection()
    {
        using var services = Build("Host=127.0.0.1;Database=unused", TimeProvider.System, new()
        {
            ["Fleet:Projection:Interval"] = "00:00:30",
            ["Fleet:Projection:Lookback"] = "2.00:00:00",
        });

        var options = services.GetRequiredService<IOptions<ProjectionJobOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(30), options.Interval);
        Assert.Equal(TimeSpan.FromDays(2), options.Lookback);
        Assert.Same(services.GetRequiredService<ProjectionStore>(), services.GetRequiredService<IProjectionData>());
    }
}
