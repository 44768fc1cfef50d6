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
        connectionString += ";Command Timeout=300";
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
