using Fleet.Server.LocalDatabase;
using Npgsql;

namespace Fleet.Server.Tests.Infrastructure;

/// <summary>
/// One private PostgreSQL cluster for the whole test run (started on first use, stopped at exit), and a
/// fresh database per test class, so tests never see each other's rows.
/// </summary>
public static class PostgresServer
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static LocalPostgres? _cluster;

    public static async Task<LocalPostgres> ClusterAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_cluster is null)
            {
                string dir = Path.Combine(Path.GetTempPath(), $"fleet-test-pg-{Environment.ProcessId}-{Guid.NewGuid():N}");
                var cluster = new LocalPostgres(new LocalPostgresOptions
                {
                    DataDirectory = dir,
                    Settings = new Dictionary<string, string>
                    {
                        ["fsync"] = "off",
                        ["synchronous_commit"] = "off",
                        ["full_page_writes"] = "off",
                        ["max_connections"] = "300",
                    },
                });
                await cluster.StartAsync();
                AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                {
                    cluster.StopAsync().GetAwaiter().GetResult();
                    try
                    {
                        Directory.Delete(dir, recursive: true);
                    }
                    catch (IOException)
                    {
                    }
                };
                _cluster = cluster;
            }
            return _cluster;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public static async Task<TestDatabase> CreateDatabaseAsync(string prefix = "fleet")
    {
        var cluster = await ClusterAsync();
        string name = $"{prefix}_{Guid.NewGuid():N}";
        await using (var conn = new NpgsqlConnection(cluster.ConnectionString()))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return new TestDatabase(cluster, name);
    }
}

/// <summary>A database of its own for one test class; dropped on dispose.</summary>
public sealed class TestDatabase(LocalPostgres cluster, string name) : IAsyncDisposable
{
    public string Name => name;

    public LocalPostgres Cluster => cluster;

    public string ConnectionString => cluster.ConnectionString(name);

    public async ValueTask DisposeAsync()
    {
        if (!cluster.IsRunning)
        {
            return;
        }
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(cluster.ConnectionString());
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
