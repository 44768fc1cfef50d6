using Fleet.Contracts.V1;
using Fleet.Server.Alerts;
using Fleet.Server.Dashboard;
using Fleet.Server.Snapshots;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Server.Tests.Dashboard;
using Fleet.Server.Tests.Storage;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;

namespace Fleet.Server.Tests.Snapshots;

/// <summary>
/// An incident to freeze, stored through the production ingest store: hosts "alpha" and "beta" both run "api"
/// (alpha's leaks fds and CLOSE_WAIT toward 10.0.0.5:5432), alpha also runs a service with a hostile name, and alerts
/// in and out of the window. The window is the last hour before <see cref="Now"/>.
/// </summary>
internal static class SnapshotRig
{
    public static readonly DateTimeOffset Now = StorageHarness.Start;

    public static readonly DateTimeOffset From = Now.AddHours(-1);

    public const int SnapshotCount = 30;

    /// <summary>A service name a spreadsheet would run as a formula, with a comma and quotes in it.</summary>
    public const string HostileService = "=HYPERLINK(\"http://evil\",\"x\"),@cmd";

    public static Proc[] Alpha(int seq) =>
    [
        new("api", 100, AlphaApiFds(seq), 1024, ("10.0.0.5", 5432, (ulong)seq), ("10.0.0.6", 80, 1)),
        new("db", 200, 50, 4096),
        new(HostileService, 300, 20, 1024),
    ];

    public static ulong AlphaApiFds(int seq) => 200 + 5 * (ulong)seq;

    public static Proc[] Beta(int seq) => [new("api", 110, 100 + (ulong)seq, 65536, ("10.0.0.7", 443, 2)), new("cache", 210, 30, 1024)];

    public static SnapshotRequest Request(string title = "api leak on alpha") =>
        new(title, "notes: CLOSE_WAIT toward the database", SnapshotOrigin.Compare, ["alpha", "beta"], "api", From, Now);

    /// <summary>Stores the snapshots (one a minute for the last half hour) and the alerts.</summary>
    public static async Task StoreIncidentAsync(StorageHarness harness)
    {
        var alpha = new List<Snapshot>();
        var beta = new List<Snapshot>();
        for (int seq = 1; seq <= SnapshotCount; seq++)
        {
            var at = Now.AddMinutes(-SnapshotCount - 1 + seq);
            alpha.Add(Make("alpha", (ulong)seq, at, Alpha(seq)));
            beta.Add(Make("beta", (ulong)seq, at, Beta(seq)));
        }
        await harness.StoreAsync([.. alpha]);
        await harness.StoreAsync([.. beta]);

        await using var db = await Contexts(harness).CreateDbContextAsync().WaitAsync(TestTimeout);
        db.Alerts.AddRange(
            Alert("alpha", "api", AlertState.Firing, Now.AddMinutes(-20), null),
            Alert("alpha", null, AlertState.Resolved, Now.AddHours(-3), Now.AddMinutes(-50)),
            Alert("beta", "api", AlertState.Pending, Now.AddMinutes(-5), null),
            // Out of the snapshot: resolved before the window, another service, another host.
            Alert("alpha", "api", AlertState.Resolved, Now.AddHours(-5), Now.AddHours(-2)),
            Alert("alpha", "db", AlertState.Firing, Now.AddMinutes(-10), null),
            Alert("gamma", "api", AlertState.Firing, Now.AddMinutes(-10), null));
        await db.SaveChangesAsync().WaitAsync(TestTimeout);
    }

    public static IDbContextFactory<FleetDbContext> Contexts(StorageHarness harness) =>
        harness.Services.GetRequiredService<IDbContextFactory<FleetDbContext>>();

    public const string ServerName = "https://fleet-a.example";

    public static PostgresIncidentSnapshots Store(StorageHarness harness, SnapshotOptions? options = null, TimeProvider? clock = null)
    {
        var contexts = Contexts(harness);
        return new PostgresIncidentSnapshots(contexts, harness.DataSource, new PostgresDashboardData(harness.DataSource), new PostgresAlertData(contexts),
            clock ?? harness.Clock, Options.Create(options ?? new SnapshotOptions { ServerName = ServerName }));
    }

    public static readonly string[] SeriesTables =
    [
        "host_samples", "service_samples", "process_samples", "close_wait_samples",
        "service_rollup_1m", "service_rollup_1h", "host_rollup_1m", "host_rollup_1h",
    ];

    /// <summary>Every stored sample and rollup gone, and no host has a latest snapshot: the pages have nothing left to read.</summary>
    public static async Task DeleteRawDataAsync(StorageHarness harness)
    {
        foreach (string table in SeriesTables)
        {
            await harness.ExecuteAsync($"DELETE FROM {table}");
        }
        await harness.ExecuteAsync("UPDATE hosts SET latest_snapshot = NULL, latest_collected_at = NULL");
    }

    /// <summary>The total of stored samples a snapshot of <see cref="Request"/> keeps (api's service samples only).</summary>
    public static Task<long> RawRowsAsync(StorageHarness harness) => harness.ScalarAsync<long>(
        "SELECT (SELECT count(*) FROM host_samples) + (SELECT count(*) FROM process_samples) + (SELECT count(*) FROM close_wait_samples)"
        + " + (SELECT count(*) FROM service_samples ss JOIN services s ON s.id = ss.service_id WHERE s.name = 'api')");

    private static AlertEntity Alert(string host, string? service, AlertState state, DateTimeOffset started, DateTimeOffset? resolved) => new()
    {
        RuleId = DefaultAlertRules.All[0].Id,
        RuleName = "fds " + host + " " + service,
        Metric = service is null ? AlertMetric.HostFileHandlesPercent : AlertMetric.ServiceFdPercent,
        Severity = AlertSeverity.Critical,
        State = state,
        Host = host,
        Service = service,
        Value = 91.5,
        Threshold = 90,
        StartedAt = started,
        FiredAt = state == AlertState.Pending ? null : started.AddMinutes(1),
        ResolvedAt = resolved,
        LastEvaluatedAt = resolved ?? Now,
        Summary = $"{host} {service} over 90%",
    };
}
