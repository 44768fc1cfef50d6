using Fleet.Server.Alerts;
using Fleet.Server.Notifications;
using Fleet.Server.Storage;
using Fleet.Server.Tests.Infrastructure;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Fleet.Server.Tests.Notifications;

/// <summary>
/// Notifications as the server wires them (AddFleetStorage + AddNotifications) on a fresh, migrated database of the
/// private test cluster, with a fake clock. One per test, so no test sees another's channels or deliveries.
/// </summary>
internal sealed class NotificationHarness : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    public static readonly DateTimeOffset Start = new(2030, 3, 15, 12, 0, 0, TimeSpan.Zero);

    public const string PublicUrl = "https://fleet.example.test/ops/";

    private readonly List<ServiceProvider> _providers = [];
    private readonly Dictionary<string, string?> _settings;

    private NotificationHarness(TestDatabase database, Dictionary<string, string?> settings)
    {
        Database = database;
        _settings = settings;
        Services = BuildServices();
    }

    public TestDatabase Database { get; }

    public FakeTimeProvider Clock { get; } = new(Start);

    /// <summary>The first server's services; <see cref="BuildServices"/> makes another (a restart, or a second server).</summary>
    public ServiceProvider Services { get; }

    public INotificationChannels Channels => Services.GetRequiredService<INotificationChannels>();

    public NotificationDispatcher Dispatcher => Services.GetRequiredService<NotificationDispatcher>();

    /// <param name="settings">Keys under Fleet:Notifications (JitterFraction is 0 unless given).</param>
    public static async Task<NotificationHarness> StartAsync(Dictionary<string, string?>? settings = null, string? connectionString = null)
    {
        var database = await PostgresServer.CreateDatabaseAsync("notify").WaitAsync(Timeout);
        var values = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Fleet"] = connectionString ?? database.ConnectionString,
            ["Fleet:PublicUrl"] = PublicUrl,
            ["Fleet:Notifications:JitterFraction"] = "0",
        };
        foreach (var (k, v) in settings ?? [])
        {
            values[$"Fleet:Notifications:{k}"] = v;
        }
        var harness = new NotificationHarness(database, values);
        await harness.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None).WaitAsync(Timeout);
        return harness;
    }

    /// <summary>Another set of the server's services on the same database and clock.</summary>
    public ServiceProvider BuildServices(Dictionary<string, string?>? overrides = null)
    {
        var values = new Dictionary<string, string?>(_settings);
        foreach (var (k, v) in overrides ?? [])
        {
            values[k] = v;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(Clock);
        services.AddFleetStorage(configuration);
        services.AddNotifications(configuration);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        _providers.Add(provider);
        return provider;
    }

    public Task<NotificationChannel> AddChannelAsync(string name, ChannelKind kind, Uri url, AlertSeverity minSeverity = AlertSeverity.Warning, bool enabled = true) =>
        Channels.CreateAsync(new ChannelDraft(name, kind, url.ToString(), minSeverity, enabled), "tester", CancellationToken.None).WaitAsync(Timeout);

    /// <summary>What the evaluator does: the sink adds to its context, the evaluator saves once.</summary>
    public async Task EnqueueAsync(params AlertTransition[] transitions)
    {
        var contexts = Services.GetRequiredService<IDbContextFactory<FleetDbContext>>();
        await using var db = await contexts.CreateDbContextAsync();
        await Services.GetRequiredService<IAlertTransitionSink>().AddAsync(db, transitions, CancellationToken.None).WaitAsync(Timeout);
        await db.SaveChangesAsync().WaitAsync(Timeout);
    }

    public async Task<IReadOnlyList<DeliveryView>> DeliveriesAsync(long? channelId = null) =>
        await Channels.DeliveriesAsync(channelId, 1000, CancellationToken.None).WaitAsync(Timeout);

    public async Task<DeliveryView> DeliveryAsync(long channelId) => Assert.Single(await DeliveriesAsync(channelId));

    public Task<int> RunOnceAsync() => Dispatcher.RunOnceAsync(CancellationToken.None).WaitAsync(Timeout);

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }
        await Database.DisposeAsync();
    }
}

internal static class TestAlerts
{
    public static AlertView Alert(
        long id,
        AlertSeverity severity = AlertSeverity.Warning,
        string rule = "fds over 80%",
        string host = "web-1",
        string? service = "api",
        int? pid = null,
        string? remote = null,
        string summary = "api on web-1 holds 850 of 1024 fds",
        DateTimeOffset? firedAt = null,
        DateTimeOffset? resolvedAt = null) => new(
            Id: id,
            RuleId: 7,
            RuleName: rule,
            Metric: AlertMetric.ServiceFdPercent,
            Severity: severity,
            State: resolvedAt is null ? AlertState.Firing : AlertState.Resolved,
            Host: host,
            Service: service,
            Pid: pid,
            Remote: remote,
            Value: 83.0078125,
            Threshold: 80,
            StartedAt: NotificationHarness.Start.AddMinutes(-10),
            FiredAt: firedAt ?? NotificationHarness.Start.AddMinutes(-5),
            ResolvedAt: resolvedAt,
            LastEvaluatedAt: resolvedAt ?? NotificationHarness.Start,
            Summary: summary);

    public static AlertTransition Firing(AlertView alert) => new(alert, AlertTransition.Firing, alert.FiredAt!.Value);

    public static AlertTransition Resolved(AlertView alert) => new(alert, AlertTransition.Resolved, alert.ResolvedAt!.Value);
}

internal static class Eventually
{
    /// <summary>Waits until <paramref name="condition"/> holds, calling <paramref name="step"/> (say, advancing the fake clock) between looks; fails at the deadline.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, Action? step = null, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? NotificationHarness.Timeout);
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"timed out waiting for {what}");
            }
            step?.Invoke();
            await Task.Delay(20);
        }
    }
}
