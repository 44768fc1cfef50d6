using Fleet.Server.Alerts;
using Fleet.Server.Storage;
using Fleet.Server.Tests.Infrastructure;
using Fleet.Server.Tests.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Fleet.Server.Tests.Alerts;

/// <summary>
/// Storage and alerts as the server wires them (AddFleetStorage + AddAlerts) on a fresh, migrated database of the
/// private test cluster. One per test class; tests that need an empty rule set call <see cref="ResetAsync"/> first
/// (tests of one class run one after another).
/// </summary>
public sealed class AlertHarness : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = StorageHarness.Timeout;

    /// <summary>A whole second (PostgreSQL keeps microseconds), far from the seeded rules' date.</summary>
    public static readonly DateTimeOffset Start = new(2030, 3, 15, 12, 0, 0, TimeSpan.Zero);

    private TestDatabase? _database;
    private ServiceProvider? _services;

    /// <summary>The clock the harness's services see (tests of the evaluator may make their own).</summary>
    public FakeTimeProvider Clock { get; } = new(Start);

    public IServiceProvider Services => _services ?? throw new InvalidOperationException("not started");

    public IDbContextFactory<FleetDbContext> Contexts => Services.GetRequiredService<IDbContextFactory<FleetDbContext>>();

    public NpgsqlDataSource DataSource => Services.GetRequiredService<NpgsqlDataSource>();

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("alerts").WaitAsync(Timeout);
        _services = Build(_database.ConnectionString, Clock, null);
        await _services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None).WaitAsync(Timeout);
    }

    /// <summary>A service provider over this harness's database with another clock and, when given, a transition sink.</summary>
    public ServiceProvider Build(TimeProvider clock, IAlertTransitionSink? sink, Fleet.Web.Data.IProjectionData? projections = null) =>
        Build(Database.ConnectionString, clock, sink, projections);

    public TestDatabase Database => _database ?? throw new InvalidOperationException("not started");

    private static ServiceProvider Build(string connectionString, TimeProvider clock, IAlertTransitionSink? sink, Fleet.Web.Data.IProjectionData? projections = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Fleet"] = connectionString })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(clock);
        services.AddFleetStorage(configuration);
        services.AddAlerts(configuration);
        if (sink is not null)
        {
            // After AddAlerts on purpose: the sink is found whatever the order of registration.
            services.AddSingleton(sink);
        }
        if (projections is not null)
        {
            services.AddSingleton(projections);
        }
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    /// <summary>No rules, alerts, audit entries nor hosts.</summary>
    public async Task ResetAsync()
    {
        await using var cmd = DataSource.CreateCommand("TRUNCATE alert_rules, alerts, audit_log, hosts CASCADE");
        await cmd.ExecuteNonQueryAsync().WaitAsync(Timeout);
    }

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
