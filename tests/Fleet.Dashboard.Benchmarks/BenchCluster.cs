using System.Globalization;
using Fleet.Server.LocalDatabase;
using Npgsql;

namespace Fleet.Dashboard.Benchmarks;

/// <summary>
/// The run's private PostgreSQL cluster (durable defaults, as a server runs): in a new folder under /tmp removed at
/// the end, or in <c>--keep-database DIR</c>/postgres, kept with its history for the next run.
/// </summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    public const string Database = "fleet_dashboard_bench";

    // Bulk generation writes tens of GB: fewer checkpoints (and so fewer full-page images) than the 1 GB default.
    // Read paths are not affected; everything stays durable (fsync, synchronous_commit, full_page_writes on).
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["max_wal_size"] = "8GB",
        ["checkpoint_timeout"] = "15min",
    };

    private readonly LocalPostgres _cluster;
    private readonly bool _keep;

    private BenchCluster(string root, bool keep)
    {
        Root = root;
        _keep = keep;
        _cluster = new LocalPostgres(new LocalPostgresOptions { DataDirectory = Path.Combine(root, "postgres"), Settings = Settings });
    }

    /// <summary>The folder holding the cluster and the history's description.</summary>
    public string Root { get; }

    public string ConnectionString => _cluster.ConnectionString(Database);

    public static async Task<BenchCluster> StartAsync(string? keepDirectory, TextWriter progress, CancellationToken ct)
    {
        string root = keepDirectory ?? Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"fleet-dashboard-bench-{Environment.ProcessId}-{Guid.NewGuid():N}"));
        Directory.CreateDirectory(root);
        // The postgres user must reach the cluster folder inside it.
        File.SetUnixFileMode(root, File.GetUnixFileMode(root) | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        var cluster = new BenchCluster(root, keepDirectory is not null);
        progress.WriteLine($"starting a private PostgreSQL cluster in {Path.Combine(root, "postgres")}{(cluster._keep ? " (kept)" : "")}");
        await cluster._cluster.StartAsync(ct);
        await using var conn = new NpgsqlConnection(cluster._cluster.ConnectionString());
        await conn.OpenAsync(ct);
        await using var exists = new NpgsqlCommand($"SELECT count(*) FROM pg_database WHERE datname = '{Database}'", conn);
        if ((long)(await exists.ExecuteScalarAsync(ct))! == 0)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{Database}\"", conn);
            await create.ExecuteNonQueryAsync(ct);
        }
        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await _cluster.StopAsync(CancellationToken.None);
        if (!_keep)
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
