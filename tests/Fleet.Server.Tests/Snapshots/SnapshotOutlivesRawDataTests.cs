using System.Text.Json;
using Fleet.Server.Dashboard;
using Fleet.Server.Tests.Storage;
using Fleet.Web.Data;
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;
using static Fleet.Server.Tests.Snapshots.SnapshotRig;

namespace Fleet.Server.Tests.Snapshots;

/// <summary>The test: a snapshot taken, then the raw data deleted, and the snapshot still shows the same figures.</summary>
public sealed class SnapshotOutlivesRawDataTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly JsonSerializerOptions Compare = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    [Fact]
    public async Task Snapshot_AfterEverySampleRollupAndLatestSnapshotIsDeleted_OpensWithTheFiguresThePagesShowedBefore()
    {
        await StoreIncidentAsync(harness);
        var window = Window(From, Now);
        var pages = new PostgresDashboardData(harness.DataSource);
        var before = new List<HostView>
        {
            (await pages.HostAsync("alpha", window, CancellationToken.None).WaitAsync(TestTimeout))!,
            (await pages.HostAsync("beta", window, CancellationToken.None).WaitAsync(TestTimeout))!,
        };
        var serviceBefore = await pages.ServiceAsync("api", window, CancellationToken.None).WaitAsync(TestTimeout);
        var rowsBefore = new Dictionary<string, long>();
        foreach (string table in new[] { "host_samples", "process_samples", "close_wait_samples" })
        {
            rowsBefore[table] = await harness.ScalarAsync<long>($"SELECT count(*) FROM {table}");
        }
        // Only api's instances are kept of the service samples.
        rowsBefore["service_samples"] = await harness.ScalarAsync<long>("SELECT count(*) FROM service_samples ss JOIN services s ON s.id = ss.service_id WHERE s.name = 'api'");
        var store = Store(harness);

        var info = await store.CreateAsync(Request(), "tester", CancellationToken.None).WaitAsync(TestTimeout);
        await DeleteRawDataAsync(harness);
        var opened = await store.OpenAsync(info.Id, CancellationToken.None).WaitAsync(TestTimeout);
        var document = await store.DocumentAsync(info.Id, CancellationToken.None).WaitAsync(TestTimeout);

        // The pages have nothing left to show...
        Assert.Null(await pages.HostAsync("alpha", window, CancellationToken.None).WaitAsync(TestTimeout));
        Assert.Equal(0L, await harness.ScalarAsync<long>("SELECT (SELECT count(*) FROM host_samples) + (SELECT count(*) FROM process_samples) + (SELECT count(*) FROM close_wait_samples) + (SELECT count(*) FROM service_samples)"));
        // ...and the snapshot shows what they showed.
        Assert.NotNull(opened);
        Assert.Equal(JsonSerializer.Serialize(before, Compare), JsonSerializer.Serialize(opened.Hosts, Compare));
        Assert.Equal(JsonSerializer.Serialize(serviceBefore, Compare), JsonSerializer.Serialize(opened.ServiceView, Compare));
        Assert.Equal((info.Id, "api leak on alpha", SnapshotOrigin.Compare, "api", From, Now), (opened.Info.Id, opened.Info.Title, opened.Info.Origin, opened.Info.Service, opened.Info.From, opened.Info.To));
        Assert.Equal(["alpha", "beta"], opened.Info.Hosts);
        Assert.Equal(new TimeWindow(From, Now, false, "custom"), opened.Window);

        var alpha = opened.Hosts.Single(h => h.Detail.Name == "alpha");
        Assert.Equal(AlphaApiFds(SnapshotCount), alpha.Detail.Processes.Single(p => p.Pid == 100).OpenFds);
        Assert.Equal((ulong)SnapshotCount, alpha.Detail.CloseWaitRemotes.Single(r => r.Remote == "10.0.0.5:5432" && r.Service == "api").Count);
        var apiLine = alpha.Series.OpenFdsByService.Series.Single(s => s.Name == "api");
        Assert.Equal((double)AlphaApiFds(SnapshotCount), apiLine.Points.Max(p => p.Value));
        Assert.Equal((double)AlphaApiFds(1), apiLine.Points.Where(p => p.Value is not null).Min(p => p.Value));
        Assert.Equal(1024UL, alpha.Detail.Processes.Single(p => p.Pid == 100).SoftLimit);
        Assert.Equal(60999U, alpha.Detail.System.EphemeralPortHigh);

        // The alerts that were pending, firing or resolved within the window, of api and of the hosts themselves.
        Assert.Equal(
            [("beta", "api", AlertState.Pending), ("alpha", "api", AlertState.Firing), ("alpha", null, AlertState.Resolved)],
            opened.Alerts.Select(a => (a.Host, a.Service, a.State)));

        // The raw samples at full resolution are kept beside the views.
        Assert.NotNull(document);
        foreach (var (table, count) in rowsBefore)
        {
            Assert.Equal(count, document.Raw.Single(t => t.Name == table).Rows.Count);
        }
        Assert.Equal(2L * SnapshotCount, rowsBefore["host_samples"]);
        var hostRows = document.Raw.Single(t => t.Name == "host_samples");
        int host = hostRows.Columns.ToList().IndexOf("host"), time = hostRows.Columns.ToList().IndexOf("time");
        Assert.Equal(SnapshotCount, hostRows.Rows.Count(r => r[host] == "alpha"));
        Assert.Equal(Now.AddMinutes(-SnapshotCount).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture), hostRows.Rows[0][time]);
        var cw = document.Raw.Single(t => t.Name == "close_wait_samples");
        int remote = cw.Columns.ToList().IndexOf("remote"), count2 = cw.Columns.ToList().IndexOf("count");
        Assert.Equal(SnapshotCount.ToString(System.Globalization.CultureInfo.InvariantCulture), cw.Rows.Where(r => r[remote] == "10.0.0.5").Select(r => r[count2]).Last());
        Assert.True(info.SizeBytes > 0);
    }

    [Fact]
    public async Task Create_OfAHostThatNeverSentASnapshot_IsRefusedNamingTheHost_AndStoresNothing()
    {
        var store = Store(harness);
        int before = (await store.ListAsync(CancellationToken.None).WaitAsync(TestTimeout)).Count;

        var e = await Assert.ThrowsAsync<Fleet.Web.Data.SnapshotRefusedException>(() =>
            store.CreateAsync(Request() with { Hosts = ["nobody-here"], Service = null }, "tester", CancellationToken.None).WaitAsync(TestTimeout));
        var invalid = await Assert.ThrowsAsync<Fleet.Web.Data.SnapshotRefusedException>(() =>
            store.CreateAsync(Request(title: " ") with { To = From }, "tester", CancellationToken.None).WaitAsync(TestTimeout));

        Assert.Equal(["hosts: no host named 'nobody-here' has sent a snapshot"], e.Errors);
        Assert.Equal(["title: required", "to: must be after from"], invalid.Errors);
        Assert.Equal(before, (await store.ListAsync(CancellationToken.None).WaitAsync(TestTimeout)).Count);
    }
}
