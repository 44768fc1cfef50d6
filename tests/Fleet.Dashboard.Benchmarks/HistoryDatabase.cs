using Fleet.Server.Ingest;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Rollups;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Fleet.Dashboard.Benchmarks;

/// <summary>The benchmark database with storage wired as the server wires it (AddFleetStorage), migrated; its hosted jobs are not started.</summary>
internal sealed class HistoryDatabase : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private HistoryDatabase(ServiceProvider services) => _services = services;

    public NpgsqlDataSource DataSource => _services.GetRequiredService<NpgsqlDataSource>();

    public IIngestStore Store => _services.GetRequiredService<IIngestStore>();

    public RollupService Rollups => _services.GetRequiredService<RollupService>();

    public static async Task<HistoryDatabase> OpenAsync(string connectionString, CancellationToken ct)
    {
        // Bulk generation on a busy machine: a generous command timeout for the store's and the rollup's statements.
        // The planner settings: the RollupService's minute statements otherwise hash-join a sequential scan of every
        // raw service_samples partition (the bucket times come from the unnest, so no partition is pruned at plan
        // time); at 1,200 buckets over 2 days of 20 hosts that took ~30 s a pass against ~0.5 s for the nested loop
        // over the (service_id, time) index with run-time pruning. Same statements, same results; see the report.
        connectionString += ";Command Timeout=300;Options=-c enable_seqscan=off -c enable_hashjoin=off -c enable_mergejoin=off";
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Fleet"] = connectionString })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.None));
        services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        services.AddSingleton(TimeProvider.System);
        services.AddFleetStorage(configuration);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        await provider.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
        return new HistoryDatabase(provider);
    }

    public async Task<T?> ScalarAsync<T>(string sql, CancellationToken ct, params object[] parameters)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        cmd.CommandTimeout = 3600;
        foreach (object p in parameters)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = p });
        }
        object? value = await cmd.ExecuteScalarAsync(ct);
        return value is null or DBNull ? default : (T)value;
    }

    public async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        cmd.CommandTimeout = 3600;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync() => await _services.DisposeAsync();
}
