using Fleet.Server.Ingest;
using Fleet.Server.LocalDatabase;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Partitions;
using Fleet.Server.Storage.Rollups;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fleet.Server.Benchmarks;

/// <summary>A database of the benchmark's cluster with storage wired as the server wires it (AddFleetStorage), migrated.</summary>
internal sealed class BenchmarkDatabase : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private BenchmarkDatabase(string name, ServiceProvider services)
    {
        Name = name;
        _services = services;
    }

    public string Name { get; }

    public NpgsqlDataSource DataSource => _services.GetRequiredService<NpgsqlDataSource>();

    public IIngestStore Store => _services.GetRequiredService<IIngestStore>();

    public PartitionManager Partitions => _services.GetRequiredService<PartitionManager>();

    public RollupService Rollups => _services.GetRequiredService<RollupService>();

    public StorageOptions StorageOptions => _services.GetRequiredService<IOptions<StorageOptions>>().Value;

    public ILoggerFactory Loggers => _services.GetRequiredService<ILoggerFactory>();

    public static async Task<BenchmarkDatabase> CreateAsync(LocalPostgres cluster, string name, CancellationToken ct)
    {
        await using (var conn = new NpgsqlConnection(cluster.ConnectionString()))
        {
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Fleet"] = cluster.ConnectionString(name) })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddSimpleConsole(o => o.SingleLine = true)
            // The migrator's first look for its history table fails on a new database, as expected.
            .AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.None));
        services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        services.AddSingleton(TimeProvider.System);
        services.AddFleetStorage(configuration);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var database = new BenchmarkDatabase(name, provider);
        await provider.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
        return database;
    }

    public async Task<T> ScalarAsync<T>(string sql, CancellationToken ct)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        return (T)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        cmd.CommandTimeout = 600;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync() => await _services.DisposeAsync();
}
