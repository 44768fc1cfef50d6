using Fleet.Server.Dashboard;
using Fleet.Server.Tests.Storage;
using Fleet.Web.Data;
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;

namespace Fleet.Server.Tests.Dashboard;

public sealed class DashboardServiceTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly DateTimeOffset Now = StorageHarness.Start;

    private PostgresDashboardData Data => new(harness.DataSource);

    private static TimeWindow LastHour => Window(Now.AddHours(-1), Now);

    [Fact]
    public async Task Service_AcrossHosts_ListsEveryInstanceWithItsLatestFiguresAndSeriesNamedByHost()
    {
        var a1 = Make("sv-a", 1, Now.AddMinutes(-10), new Proc("shared", 10, 300, 1000, ("10.0.0.1", 80, 2)), new Proc("only-a", 11, 10, 100));
        var a2 = Make("sv-a", 2, Now.AddMinutes(-5), new Proc("shared", 10, 400, 1000, ("10.0.0.1", 80, 5)), new Proc("shared", 12, 40, 4096), new Proc("only-a", 11, 10, 100));
        var b1 = Make("sv-b", 1, Now.AddMinutes(-8), new Proc("shared", 20, 700, 2048), new Proc("only-b", 21, 10, 100));
        var c1 = Make("sv-c", 1, Now.AddMinutes(-8), new Proc("other", 30, 10, 100));
        // d ran the service two hours ago, no longer: listed as an instance, without a line in the last hour.
        var d1 = Make("sv-d", 1, Now.AddHours(-2), new Proc("shared", 40, 900, 1000));
        var d2 = Make("sv-d", 2, Now.AddMinutes(-1), new Proc("other", 41, 10, 100));
        await harness.StoreAsync(a1, a2);
        await harness.StoreAsync(b1);
        await harness.StoreAsync(c1);
        await harness.StoreAsync(d1, d2);

        var view = await Data.ServiceAsync("shared", LastHour, CancellationToken.None).WaitAsync(TestTimeout);

        Assert.NotNull(view);
        Assert.Equal("shared", view.Name);
        Assert.Equal(["sv-a", "sv-b", "sv-d"], view.Instances.Select(i => i.Host));
        Assert.All(view.Instances, i => Assert.Equal((Now, TimeSpan.FromSeconds(10)), (i.LastSeen!.Value, i.AgentInterval)));
        var shared = a2.Services.Single(s => s.Name == "shared");
        Assert.Equal(new InstanceRisk("sv-a", "shared", Now.AddMinutes(-5), 2, 440, 10, 400, 1000, 524288, (float)shared.WorstSoftLimitPercent, 5), view.Instances[0].Latest);
        Assert.Equal(new InstanceRisk("sv-b", "shared", Now.AddMinutes(-8), 1, 700, 20, 700, 2048, 524288, (float)(700 * 100.0 / 2048), 0), view.Instances[1].Latest);
        Assert.Equal(Now.AddHours(-2), view.Instances[2].Latest.At);
        Assert.Equal(900UL, view.Instances[2].Latest.OpenFds);

        foreach (var set in new[] { view.OpenFdsByInstance, view.SoftLimitPercentByInstance, view.CloseWaitByInstance })
        {
            Assert.Equal(["sv-a", "sv-b"], set.Series.Select(s => s.Name));
            Assert.Equal(("raw", TimeSpan.FromSeconds(15)), (set.Source, set.Step));
        }
        Assert.Equal(["open_fds", "soft_limit_percent", "close_wait"], new[] { view.OpenFdsByInstance, view.SoftLimitPercentByInstance, view.CloseWaitByInstance }.Select(s => s.Metric));
        var step = TimeSpan.FromSeconds(15);
        var from = Now.AddHours(-1);
        Assert.Equal(Expected(from, step, 240, [(a1.At(), 300), (a2.At(), 440)]), Values(view.OpenFdsByInstance, "sv-a"));
        Assert.Equal(Expected(from, step, 240, [(b1.At(), 700)]), Values(view.OpenFdsByInstance, "sv-b"));
        Assert.Equal(Expected(from, step, 240, [(a1.At(), 2), (a2.At(), 5)]), Values(view.CloseWaitByInstance, "sv-a"));
        Assert.Equal(Expected(from, step, 240, [(b1.At(), (float)(700 * 100.0 / 2048))]), Values(view.SoftLimitPercentByInstance, "sv-b"));

        var week = await Data.ServiceAsync("shared", Window(Now.AddDays(-7), Now), CancellationToken.None).WaitAsync(TestTimeout);
        Assert.Equal("1h", week!.OpenFdsByInstance.Source);
    }

    [Fact]
    public async Task Service_UnknownOrUnstorableName_IsNull()
    {
        await harness.StoreAsync(Make("sv-known", 1, Now.AddMinutes(-1), new Proc("known-service", 2, 10, 100)));

        foreach (string name in new[] { "no-such-service", new string('s', 257), "", "bad\0name", "bad\udc00name" })
        {
            Assert.Null(await Data.ServiceAsync(name, LastHour, CancellationToken.None).WaitAsync(TestTimeout));
        }
        Assert.NotNull(await Data.ServiceAsync("known-service", LastHour, CancellationToken.None).WaitAsync(TestTimeout));
    }

    private static double?[] Values(SeriesSet set, string name) => [.. set.Series.Single(s => s.Name == name).Points.Select(p => p.Value)];
}
