using Fleet.Contracts.V1;
using Fleet.Server.Alerts;
using Fleet.Server.Notifications;
using Fleet.Server.Storage;
using Fleet.Server.Tests.Dashboard;
using Fleet.Server.Tests.Infrastructure;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Fleet.Server.Tests.Alerts;

/// <summary>
/// Alerts, silences and the notification outbox as the server wires them (AddFleetStorage + AddAlerts +
/// AddNotifications) on a fresh, migrated database of its own, with a controlled clock. No background loop runs: tests
/// evaluate and tick themselves, and read the delivery log (nothing is dispatched). <see cref="RestartAsync"/> makes a
/// new server process (empty memory) over the same database.
/// </summary>
internal sealed class SilenceRig : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = AlertHarness.Timeout;

    public const string Operator = "ana (operator)";

    private readonly TestDatabase _database;
    private ServiceProvider _services;
    private ulong _sequence;

    private SilenceRig(TestDatabase database)
    {
        _database = database;
        _services = Build();
    }

    public FakeTimeProvider Clock { get; } = new(AlertHarness.Start);

    public IAlertRules Rules => _services.GetRequiredService<IAlertRules>();

    public IAlertSilences Silences => _services.GetRequiredService<IAlertSilences>();

    public IAlertData Alerts => _services.GetRequiredService<IAlertData>();

    public INotificationChannels Channels => _services.GetRequiredService<INotificationChannels>();

    public AlertEvaluator Evaluator => _services.GetRequiredService<AlertEvaluator>();

    public NotificationDispatcher Dispatcher => _services.GetRequiredService<NotificationDispatcher>();

    public IDbContextFactory<FleetDbContext> Contexts => _services.GetRequiredService<IDbContextFactory<FleetDbContext>>();

    public static async Task<SilenceRig> StartAsync()
    {
        var database = await PostgresServer.CreateDatabaseAsync("silence").WaitAsync(Timeout);
        var rig = new SilenceRig(database);
        await rig._services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None).WaitAsync(Timeout);
        // Only the tests' own rules (the migrations seed defaults), before the evaluator first loads them.
        await using (var db = await rig.Contexts.CreateDbContextAsync().WaitAsync(Timeout))
        {
            await db.AlertRules.ExecuteDeleteAsync().WaitAsync(Timeout);
            await db.AuditLog.ExecuteDeleteAsync().WaitAsync(Timeout);
        }
        // Made now, as the server makes it at start.
        _ = rig.Evaluator;
        return rig;
    }

    /// <summary>A rule on service fds (% of the soft limit), firing at 80 and recovering below 75, and one channel that takes every severity.</summary>
    public async Task<AlertRule> RuleAndChannelAsync(string name = "api fds", TimeSpan? @for = null)
    {
        var rule = await Rules.CreateAsync(new AlertRuleDraft(name, AlertMetric.ServiceFdPercent, AlertScopeKind.Fleet, null, null, 80, 75, @for ?? TimeSpan.Zero, AlertSeverity.Critical, true), "admin", CancellationToken.None).WaitAsync(Timeout);
        if ((await Channels.ListAsync(CancellationToken.None).WaitAsync(Timeout)).Count == 0)
        {
            await Channels.CreateAsync(new ChannelDraft("pager", ChannelKind.Alertmanager, "http://127.0.0.1:9/am", AlertSeverity.Warning, true), "admin", CancellationToken.None).WaitAsync(Timeout);
        }
        return rule;
    }

    public Task<AlertSilence> SilenceAsync(long? ruleId = null, string? host = null, string? service = null, long? alertId = null, TimeSpan? duration = null, string reason = "deploy of api") =>
        Silences.CreateAsync(new AlertSilenceDraft(ruleId, host, service, alertId, duration ?? TimeSpan.FromHours(1), reason), Operator, CancellationToken.None).WaitAsync(Timeout);

    /// <summary>Evaluates one snapshot of <paramref name="host"/> taken now with these service instances (one process each: fds of 1000).</summary>
    public Task EvaluateAsync(string host, params (string Service, ulong Fds)[] services)
    {
        var snapshot = DashboardSnapshots.Make(host, ++_sequence, Clock.GetUtcNow(), [.. services.Select((s, i) => new Proc(s.Service, 100 + i, s.Fds, 1000))]);
        return Evaluator.EvaluateAsync([new QueuedSnapshot(host, snapshot)], CancellationToken.None).WaitAsync(Timeout);
    }

    public Task TickAsync() => Evaluator.TickAsync(CancellationToken.None).WaitAsync(Timeout);

    public Task<IReadOnlyList<AlertView>> ActiveAsync() => Alerts.ActiveAsync(null, CancellationToken.None).WaitAsync(Timeout);

    /// <summary>The delivery log, oldest first.</summary>
    public async Task<List<DeliveryView>> DeliveriesAsync() =>
        [.. (await Channels.DeliveriesAsync(null, 1000, CancellationToken.None).WaitAsync(Timeout)).OrderBy(d => d.Id)];

    public Task<IReadOnlyList<AuditEntry>> AuditAsync() => Rules.AuditAsync(100, CancellationToken.None).WaitAsync(Timeout);

    /// <summary>A new server process: new services (a new evaluator with empty memory) over the same database and clock.</summary>
    public async Task RestartAsync()
    {
        await _services.DisposeAsync();
        _services = Build();
        _ = Evaluator;
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await _database.DisposeAsync();
    }

    private ServiceProvider Build()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Fleet"] = _database.ConnectionString,
                ["Fleet:PublicUrl"] = "https://fleet.example.test/",
            })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(Clock);
        services.AddFleetStorage(configuration);
        services.AddAlerts(configuration);
        services.AddNotifications(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
