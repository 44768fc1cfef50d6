using Fleet.Agent.Simulation;
using Fleet.Server.Ingest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Benchmarks;

/// <summary>The size one table reached for the host's hour: rows, bytes with indexes and TOAST, heap bytes.</summary>
internal sealed record TableFootprint(string Table, long Rows, long Bytes, long HeapBytes);

internal sealed record FootprintResult(
    string Hostname, int Processes, int Snapshots, IReadOnlyList<TableFootprint> Tables, long SecondHourBytes, long LatestProtobufBytes, long LatestStoredBytes)
{
    public long HourBytes => Tables.Sum(t => t.Bytes);

    public double MiBPerDay => HourBytes * 24 / 1048576.0;

    /// <summary>What a second hour added: the same, without the fixed size of new partitions (pages, free space and visibility maps).</summary>
    public double MarginalMiBPerDay => SecondHourBytes * 24 / 1048576.0;
}

/// <summary>
/// What one host costs per day at a 10 s interval: one simulated hour of one host (360 snapshots) stored through
/// the ingest path into a database of its own, rolled up, VACUUM ANALYZEd; the sum of pg_total_relation_size
/// over the partitions of every series and rollup table (all of them that host's), times 24. Then a second hour
/// the same way: what it added is the cost without the fixed size of the partitions themselves.
/// </summary>
internal static class Footprint
{
    public const int SnapshotsPerHour = 360;

    private static readonly string[] SeriesTables =
    [
        "service_samples", "process_samples", "close_wait_samples", "host_samples",
        "service_rollup_1m", "host_rollup_1m", "service_rollup_1h", "host_rollup_1h",
    ];

    public static async Task<FootprintResult> MeasureAsync(BenchmarkDatabase database, int seed, int hostIndex, SnapshotBatchingOptions batching, CancellationToken ct)
    {
        // Two hours that end before now, within one UTC day (one set of daily partitions): yesterday's last ones early in the day.
        var now = DateTimeOffset.UtcNow;
        var dayStart = now - now.TimeOfDay;
        var firstAt = now.AddHours(-2.5) >= dayStart ? now.AddHours(-2.5) : dayStart.AddHours(-2.5);
        var agent = new SimulatedAgent($"footprint-{hostIndex:D4}", new SimulatedHost(seed, hostIndex, firstAt - TimeSpan.FromHours(1)), firstAt);
        var hour = agent.Next(SnapshotsPerHour);
        var registration = await database.Store.RegisterAgentAsync(new AgentHello(agent.AgentId, hour[0].Host, hour[0].Host.AgentVersion, 0, null), ct);
        agent.Registration = registration;

        await StoreHourAsync(database, agent, hour, batching, ct);
        var tables = await SizesAsync(database, (int)registration.HostKey, ct);
        await StoreHourAsync(database, agent, agent.Next(SnapshotsPerHour), batching, ct);
        long secondHour = (await SizesAsync(database, (int)registration.HostKey, ct)).Sum(t => t.Bytes) - tables.Sum(t => t.Bytes);

        await using var latest = database.DataSource.CreateCommand(
            "SELECT octet_length(latest_snapshot)::bigint, pg_column_size(latest_snapshot)::bigint FROM hosts WHERE id = $1");
        latest.Parameters.Add(new Npgsql.NpgsqlParameter<int> { TypedValue = (int)registration.HostKey });
        await using var row = await latest.ExecuteReaderAsync(ct);
        await row.ReadAsync(ct);
        return new FootprintResult(agent.Host.Hostname, agent.Processes, hour.Count, tables, secondHour, row.GetInt64(0), row.GetInt64(1));
    }

    private static async Task StoreHourAsync(BenchmarkDatabase database, SimulatedAgent agent, List<Fleet.Contracts.V1.Snapshot> hour, SnapshotBatchingOptions batching, CancellationToken ct)
    {
        await using (var batcher = new SnapshotBatcher(database.Store, Options.Create(batching), database.Loggers.CreateLogger<SnapshotBatcher>()))
        {
            await IngestPass.RunAsync(batcher, [agent], [hour], batching.MaxInFlightPerStream, ct);
        }
        await database.Rollups.RollUpMinutesAsync(ct);
        await database.Rollups.RollUpHoursAsync(ct);
        await database.ExecuteAsync("VACUUM ANALYZE", ct);
    }

    private static async Task<List<TableFootprint>> SizesAsync(BenchmarkDatabase database, int hostId, CancellationToken ct)
    {
        var tables = new List<TableFootprint>();
        foreach (string table in SeriesTables)
        {
            await using var cmd = database.DataSource.CreateCommand($"""
                SELECT coalesce(sum(pg_total_relation_size(relid)), 0)::bigint, coalesce(sum(pg_table_size(relid)), 0)::bigint,
                    (SELECT count(*) FROM {table} WHERE host_id = $1)
                FROM pg_partition_tree('{table}') WHERE isleaf
                """);
            cmd.Parameters.Add(new Npgsql.NpgsqlParameter<int> { TypedValue = hostId });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            tables.Add(new TableFootprint(table, reader.GetInt64(2), reader.GetInt64(0), reader.GetInt64(1)));
        }
        return tables;
    }
}
