using Fleet.Server.Storage.Rollups;
using Npgsql;
using NpgsqlTypes;

namespace Fleet.Dashboard.Benchmarks;

/// <summary>
/// The 1-minute and 1-hour rollups of the generated history, built from the queue ingest fills with the
/// RollupService's own statements and parameters (bounded by the span of the buckets taken), but draining the
/// whole queue in one transaction after each generated chunk instead of the service's batches of 5,000.
/// <see cref="CompareWithServiceAsync"/> checks that the result is what the service itself gives.
/// </summary>
internal static class HistoryRollups
{
    private static readonly string ServiceMinutes = RollupService.ServiceMinutesSql;
    private static readonly string HostMinutes = RollupService.HostMinutesSql;
    private static readonly string MarkHours = RollupService.MarkHoursSql;
    private static readonly string ServiceHours = RollupService.ServiceHoursSql;
    private static readonly string HostHours = RollupService.HostHoursSql;

    /// <summary>Every queued minute bucket: rolled up, its hour queued, taken off the queue; one transaction.</summary>
    public static Task<int> MinutesAsync(NpgsqlDataSource dataSource, CancellationToken ct) =>
        DrainAsync(dataSource, "DELETE FROM rollup_queue RETURNING host_id, minute", TimeSpan.FromMinutes(1), [ServiceMinutes, HostMinutes], markHours: true, ct);

    /// <summary>Every queued hour bucket, from the minute rollups.</summary>
    public static Task<int> HoursAsync(NpgsqlDataSource dataSource, CancellationToken ct) =>
        DrainAsync(dataSource, "DELETE FROM rollup_queue_1h RETURNING host_id, hour", TimeSpan.FromHours(1), [ServiceHours, HostHours], markHours: false, ct);

    /// <summary>
    /// The check that the bounded statements give what the RollupService gives: a few minute buckets of one host are
    /// deleted and rebuilt by <see cref="RollupService.RollUpMinutesAsync"/> itself, then compared row by row.
    /// </summary>
    public static async Task<string> CompareWithServiceAsync(HistoryDatabase db, int hostKey, CancellationToken ct)
    {
        var buckets = new List<DateTime>();
        await using (var pick = db.DataSource.CreateCommand("SELECT bucket FROM host_rollup_1m WHERE host_id = $1 ORDER BY bucket DESC LIMIT 3 OFFSET 5"))
        {
            pick.Parameters.Add(new NpgsqlParameter<int> { TypedValue = hostKey });
            await using var reader = await pick.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                buckets.Add(reader.GetFieldValue<DateTime>(0));
            }
        }
        if (buckets.Count == 0)
        {
            return "no minute rollups to compare";
        }
        var before = await RowsAsync(db, hostKey, buckets, ct);
        foreach (string sql in new[]
        {
            "DELETE FROM service_rollup_1m WHERE host_id = $1 AND bucket = ANY($2)",
            "DELETE FROM host_rollup_1m WHERE host_id = $1 AND bucket = ANY($2)",
            "INSERT INTO rollup_queue (host_id, minute) SELECT $1, unnest($2) ON CONFLICT DO NOTHING",
        })
        {
            await using var reset = db.DataSource.CreateCommand(sql);
            reset.Parameters.Add(new NpgsqlParameter<int> { TypedValue = hostKey });
            reset.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = [.. buckets], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            await reset.ExecuteNonQueryAsync(ct);
        }
        await db.Rollups.RollUpMinutesAsync(ct);
        await HoursAsync(db.DataSource, ct);
        var after = await RowsAsync(db, hostKey, buckets, ct);
        bool same = before.SequenceEqual(after);
        return $"{buckets.Count} minute buckets of host id {hostKey} deleted and rebuilt by RollupService.RollUpMinutesAsync itself: {(same ? "identical" : "DIFFERENT")} ({after.Count} rows compared)";
    }

    private static async Task<List<string>> RowsAsync(HistoryDatabase db, int hostKey, List<DateTime> buckets, CancellationToken ct)
    {
        var rows = new List<string>();
        await using var cmd = db.DataSource.CreateCommand(
            "SELECT r::text FROM (SELECT * FROM service_rollup_1m WHERE host_id = $1 AND bucket = ANY($2) ORDER BY service_id, bucket) r "
            + "UNION ALL SELECT r::text FROM (SELECT * FROM host_rollup_1m WHERE host_id = $1 AND bucket = ANY($2) ORDER BY bucket) r");
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = hostKey });
        cmd.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = [.. buckets], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(reader.GetString(0));
        }
        return rows;
    }

    private static async Task<int> DrainAsync(NpgsqlDataSource dataSource, string takeSql, TimeSpan width, string[] statements, bool markHours, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var hosts = new List<int>();
        var starts = new List<DateTime>();
        await using (var take = new NpgsqlCommand(takeSql, conn, tx))
        await using (var reader = await take.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                hosts.Add(reader.GetInt32(0));
                starts.Add(reader.GetFieldValue<DateTime>(1));
            }
        }
        if (hosts.Count > 0)
        {
            var from = starts.Min();
            var to = starts.Max() + width;
            foreach (string sql in statements)
            {
                await using var cmd = RollupService.Command(sql, hosts, starts, (from, to));
                cmd.Connection = conn;
                cmd.Transaction = tx;
                cmd.CommandTimeout = 600;
                await cmd.ExecuteNonQueryAsync(ct);
            }
            if (markHours)
            {
                await using var mark = Command(MarkHours, conn, tx, hosts, starts);
                await mark.ExecuteNonQueryAsync(ct);
            }
        }
        await tx.CommitAsync(ct);
        return hosts.Count;
    }

    private static NpgsqlCommand Command(string sql, NpgsqlConnection conn, NpgsqlTransaction tx, List<int> hosts, List<DateTime> starts) => new(sql, conn, tx)
    {
        CommandTimeout = 600,
        Parameters =
        {
            new NpgsqlParameter<int[]> { TypedValue = [.. hosts] },
            new NpgsqlParameter<DateTime[]> { TypedValue = [.. starts], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
        },
    };
}
