using Fleet.Server.Compare;
using Fleet.Server.Tests.Dashboard;
using Fleet.Server.Tests.Storage;
using Fleet.Web.Compare;
using Npgsql;
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;

namespace Fleet.Server.Tests.Compare;

/// <summary>Drift over a database of its own (it reads every host).</summary>
public sealed class DriftDataTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly DateTimeOffset Now = StorageHarness.Start;

    [Fact]
    public async Task ThreeHostsRunningAService_OneWithADifferentSoftLimit_ShowThatDifferenceOnly_AndAStaleHostIsLeftOut()
    {
        foreach (var (host, soft) in new[] { ("drift-a", 65_536UL), ("drift-b", 65_536UL), ("drift-c", 1024UL), ("drift-old", 4096UL) })
        {
            await harness.StoreAsync(Make(host, 1, Now.AddMinutes(-1), new Proc("orders-api", 100, 900, soft), new Proc("solo-" + host, 200, 5, 1024)));
        }
        await using (var cmd = new NpgsqlCommand("UPDATE hosts SET last_seen = last_seen - interval '25 hours' WHERE hostname = 'drift-old'", await harness.DataSource.OpenConnectionAsync()))
        {
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync().WaitAsync(TestTimeout));
        }

        var view = await new PostgresDriftData(harness.DataSource, harness.Clock).DriftAsync(CancellationToken.None).WaitAsync(TestTimeout);

        Assert.Equal(3, view.HostsRead);
        Assert.Equal(["drift-old"], view.LeftOut);
        // The solo services run on one host each: no drift for them.
        var api = Assert.Single(view.Services);
        Assert.Equal("orders-api", api.Service);
        Assert.Equal(["drift-a", "drift-b", "drift-c"], api.Hosts);
        var row = Assert.Single(api.Differences);
        Assert.Equal((HostSettings.NofileSoft, "orders-api"), (row.Key, row.Service));
        Assert.Equal(["65536", "65536", "1024"], row.Values);
        Assert.Contains(api.Findings, f => f.Subject == "orders-api on drift-c" && f.Message.StartsWith("soft nofile 1024 on orders-api", StringComparison.Ordinal));
        Assert.DoesNotContain(api.Findings, f => f.Subject != "orders-api on drift-c");
    }
}
