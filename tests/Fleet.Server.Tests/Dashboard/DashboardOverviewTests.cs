using Fleet.Contracts.V1;
using Fleet.Server.Dashboard;
using Fleet.Server.Tests.Storage;
using Fleet.Web.Data;
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;

namespace Fleet.Server.Tests.Dashboard;

/// <summary>The overview reads every host of the database: this class has a database of its own, and one test stores hosts.</summary>
public sealed class DashboardOverviewTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly DateTimeOffset Now = StorageHarness.Start;

    private PostgresDashboardData Data => new(harness.DataSource);

    [Fact]
    public async Task Overview_ListsEveryHostWithItsLatestFigures_AndTheTenInstancesNearestTheirSoftLimitFromLatestSnapshotsOnly()
    {
        // alpha's older snapshot has a service at 99% that is gone from its latest one.
        var alphaOld = Make("ov-alpha", 1, Now.AddMinutes(-2), new Proc("gone", 10, 990, 1000), new Proc("api", 11, 100, 1000));
        var alpha = Make("ov-alpha", 2, Now.AddMinutes(-1),
            new Proc("api", 11, 900, 1000, ("10.0.0.5", 5432, 3)), new Proc("api", 12, 20, 1000), new Proc("db", 13, 500, 1000));
        // beta's api is at 90% as alpha's, with more headroom (200 against 100); its cache has no limit.
        var beta = Make("ov-beta", 7, Now.AddMinutes(-1), new Proc("api", 21, 1800, 2000), new Proc("cache", 22, 5000, ulong.MaxValue));
        var gamma = Make("ov-gamma", 1, Now.AddSeconds(-30), [.. Enumerable.Range(0, 10).Select(i => new Proc($"g{i}", 30 + i, (ulong)(i + 1) * 70, 1000))]);
        await harness.StoreAsync(alphaOld, alpha);
        await harness.StoreAsync(beta);
        await harness.StoreAsync(gamma);
        await harness.RegisterAsync(Make("ov-silent", 1, Now));

        var overview = await Data.OverviewAsync(CancellationToken.None).WaitAsync(TestTimeout);

        Assert.Equal(["ov-alpha", "ov-beta", "ov-gamma", "ov-silent"], overview.Hosts.Select(h => h.Name));
        Assert.Equal(ExpectedRow(alpha, "api", 100), overview.Hosts[0]);
        Assert.Equal(ExpectedRow(beta, "api", 200), overview.Hosts[1]);
        Assert.Equal(
            new HostRow("ov-silent", "machine-ov-silent", Now, "1.2.3", null, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            overview.Hosts[3]);

        var expectedRisk = new[] { alpha, beta, gamma }
            .SelectMany(s => s.Services.Select(svc => (Host: s.Host.Hostname, Service: svc, At: s.At())))
            .OrderByDescending(x => (float)x.Service.WorstSoftLimitPercent)
            .ThenBy(x => x.Service.WorstNofileSoft == ulong.MaxValue ? ulong.MaxValue : x.Service.WorstNofileSoft - x.Service.WorstOpenFds)
            .Take(PostgresDashboardData.AtRiskCount)
            .ToList();
        Assert.Equal(10, overview.AtRisk.Count);
        Assert.Equal(expectedRisk.Select(x => (x.Host, x.Service.Name)), overview.AtRisk.Select(r => (r.Host, r.Service)));
        Assert.Equal(("ov-alpha", "api"), (overview.AtRisk[0].Host, overview.AtRisk[0].Service));
        Assert.Equal(("ov-beta", "api"), (overview.AtRisk[1].Host, overview.AtRisk[1].Service));
        var first = expectedRisk[0];
        Assert.Equal(
            new InstanceRisk("ov-alpha", "api", first.At, 2, 920, 11, 900, 1000, 524288, (float)first.Service.WorstSoftLimitPercent, 3),
            overview.AtRisk[0]);
        Assert.Equal(TimeSpan.FromSeconds(10), overview.AgentInterval);
    }

    private static HostRow ExpectedRow(Snapshot s, string worst, ulong headroom) => new(
        s.Host.Hostname,
        s.Host.MachineId,
        Now,
        s.Host.AgentVersion,
        worst,
        (float)s.Services.Single(x => x.Name == worst).WorstSoftLimitPercent,
        headroom,
        (ulong)s.Services.Sum(x => (long)x.OpenFds),
        (ulong)s.Services.Sum(x => (long)x.Tcp.CloseWait) + s.UnownedTcp.CloseWait,
        s.System.FileHandlesAllocated,
        s.System.FileHandlesMax,
        s.System.EphemeralPortsInUse,
        60999 - 32768 + 1,
        s.System.ConntrackCount,
        s.System.ConntrackMax,
        s.Processes.Count,
        0);

    [Fact]
    public async Task Overview_AgentInterval_ComesFromTheAgentSetting()
    {
        await harness.ExecuteAsync("""UPDATE settings SET value = '{"intervalSeconds": 30, "groupingRules": []}' WHERE key = 'agent'""");
        try
        {
            var overview = await Data.OverviewAsync(CancellationToken.None).WaitAsync(TestTimeout);

            Assert.Equal(TimeSpan.FromSeconds(30), overview.AgentInterval);
        }
        finally
        {
            await harness.ExecuteAsync("""UPDATE settings SET value = '{"intervalSeconds": 10, "groupingRules": []}' WHERE key = 'agent'""");
        }
    }

    [Theory]
    [InlineData(null, 10)]
    [InlineData("""{"intervalSeconds": 5}""", 5)]
    [InlineData("""{"intervalSeconds": 0}""", 10)]
    [InlineData("""{"intervalSeconds": "x"}""", 10)]
    [InlineData("[1]", 10)]
    [InlineData("{not json", 10)]
    public void AgentInterval_FromTheSettingJson_FallsBackToTenSeconds(string? json, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), PostgresDashboardData.AgentInterval(json));
    }
}
