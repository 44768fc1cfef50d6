using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Partitions;
using Fleet.Server.Storage.Queries;
using Fleet.Server.Storage.Rollups;
using Fleet.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Fleet.Server.Tests.Storage;

/// <summary>
/// Storage as the server wires it (AddFleetStorage), on a fresh database of the private test cluster, migrated,
/// with a manual clock. One per test class (a class fixture); tests use hosts and agents of their own.
/// </summary>
public sealed class StorageHarness : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>The clock's start: a fixed day, so partition names and buckets are known.</summary>
    public static readonly DateTimeOffset Start = new(2030, 3, 15, 12, 0, 0, TimeSpan.Zero);

    private TestDatabase? _database;
    private ServiceProvider? _services;

    internal ManualClock Clock { get; } = new(Start);

    public TestDatabase Database => _database ?? throw new InvalidOperationException("not started");

    public IServiceProvider Services => _services ?? throw new InvalidOperationException("not started");

    public IIngestStore Store => Services.GetRequiredService<IIngestStore>();

    public PostgresFleetQueries Queries => (PostgresFleetQueries)Services.GetRequiredService<Fleet.Server.Api.IFleetQueries>();

    public RollupService Rollups => Services.GetRequiredService<RollupService>();

    public PartitionManager Partitions => Services.GetRequiredService<PartitionManager>();

    public NpgsqlDataSource DataSource => Services.GetRequiredService<NpgsqlDataSource>();

    /// <summary>Settings under Fleet:Storage for this harness (before InitializeAsync).</summary>
    public Dictionary<string, string?> Settings { get; } = new();

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("storage").WaitAsync(Timeout);
        _services = BuildServices(_database.ConnectionString, Clock, Settings);
        await _services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None).WaitAsync(Timeout);
    }

    internal static ServiceProvider BuildServices(string connectionString, TimeProvider clock, Dictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?> { ["ConnectionStrings:Fleet"] = connectionString };
        foreach (var (k, v) in settings ?? [])
        {
            values[$"Fleet:Storage:{k}"] = v;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(clock);
        services.AddFleetStorage(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
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

    /// <summary>Registers the snapshot's host with a new agent (a new agent id) and an enrollment token.</summary>
    public async Task<AgentRegistration> RegisterAsync(Snapshot snapshot, string? agentId = null)
    {
        var token = await Store.AddTokenAsync("test " + Guid.NewGuid().ToString("N"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), CancellationToken.None).WaitAsync(Timeout);
        return await Store.RegisterAgentAsync(
            new AgentHello(agentId ?? "agent-" + Guid.NewGuid().ToString("N"), snapshot.Host, snapshot.Host.AgentVersion, token.Id, "127.0.0.1:5555"),
            CancellationToken.None).WaitAsync(Timeout);
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] args)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (object a in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        }
        object? value = await cmd.ExecuteScalarAsync().WaitAsync(Timeout);
        return (T)value!;
    }

    /// <summary>Rows as arrays of column values (DBNull as null).</summary>
    public async Task<List<object?[]>> RowsAsync(string sql, params object[] args)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (object a in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        }
        var rows = new List<object?[]>();
        await using var reader = await cmd.ExecuteReaderAsync().WaitAsync(Timeout);
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }
            rows.Add(row);
        }
        return rows;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync().WaitAsync(Timeout);
    }
}
