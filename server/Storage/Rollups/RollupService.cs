using Fleet.Server.Storage.Entities;
using Fleet.Server.Storage.Partitions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Fleet.Server.Storage.Rollups;

/// <summary>What one rollup pass re-aggregated: (host, bucket) pairs taken from the queue.</summary>
public sealed record RollupResult(int Buckets, int ServiceRows, int HostRows);

/// <summary>
/// Keeps the 1-minute and 1-hour rollups equal to an aggregation of the raw samples, also after late data:
/// ingest marks (host, minute) in <c>rollup_queue</c> in its own transaction; this job takes the marked buckets
/// (skipping any still locked by an ingest in flight), recomputes them from the raw rows with
/// INSERT ... ON CONFLICT DO UPDATE (idempotent), and marks their hours, which it recomputes from the minute
/// rollups every <see cref="StorageOptions.HourRollupInterval"/>.
/// </summary>
public sealed partial class RollupService(
    NpgsqlDataSource dataSource,
    PartitionManager partitions,
    IOptions<StorageOptions> options,
    TimeProvider time,
    ILogger<RollupService> logger) : BackgroundService
{
    private const int BatchSize = 5_000;

    private const string TakeMinutesSql = """
        WITH taken AS (SELECT host_id, minute FROM rollup_queue ORDER BY minute LIMIT $1 FOR UPDATE SKIP LOCKED)
        DELETE FROM rollup_queue q USING taken t WHERE q.host_id = t.host_id AND q.minute = t.minute
        RETURNING q.host_id, q.minute
        """;

    private const string TakeHoursSql = """
        WITH taken AS (SELECT host_id, hour FROM rollup_queue_1h ORDER BY hour LIMIT $1 FOR UPDATE SKIP LOCKED)
        DELETE FROM rollup_queue_1h q USING taken t WHERE q.host_id = t.host_id AND q.hour = t.hour
        RETURNING q.host_id, q.hour
        """;

    // The services that may have rows in a bucket: first seen before its end, last seen (which lags by at most
    // ServiceEntity.LastSeenResolution) after its start; then their rows by the (service_id, time) index.
    // Every statement also bounds the rows by the batch's whole span ($4 = its first bucket, $5 = the end of its
    // last): the per-bucket conditions are join filters, which neither prune partitions nor bound the index scan,
    // so without these a pass read every sample of each service in every partition (seconds to minutes per pass
    // once a week of data was kept, past Npgsql's command timeout).
    internal const string ServiceMinutesSql = """
        INSERT INTO service_rollup_1m AS r (bucket, service_id, host_id, samples, open_fds_sum, open_fds_max, soft_limit_percent_max,
            close_wait_max, established_sum, established_max, processes_sum, processes_max)
        SELECT t.bucket, s.service_id, min(s.host_id), count(*), sum(s.open_fds), max(s.open_fds), max(s.worst_soft_limit_percent),
            max(s.tcp_close_wait), sum(s.tcp_established), max(s.tcp_established), sum(s.process_count), max(s.process_count)
        FROM unnest($1::integer[], $2::timestamptz[]) AS t(host_id, bucket)
        JOIN services sv ON sv.host_id = t.host_id AND sv.first_seen < t.bucket + interval '1 minute' AND sv.last_seen >= t.bucket - $3::interval
        JOIN service_samples s ON s.service_id = sv.id AND s.time >= t.bucket AND s.time < t.bucket + interval '1 minute'
            AND s.time >= $4 AND s.time < $5
        GROUP BY t.bucket, s.service_id
        ON CONFLICT (service_id, bucket) DO UPDATE SET
            host_id = excluded.host_id, samples = excluded.samples, open_fds_sum = excluded.open_fds_sum, open_fds_max = excluded.open_fds_max,
            soft_limit_percent_max = excluded.soft_limit_percent_max, close_wait_max = excluded.close_wait_max,
            established_sum = excluded.established_sum, established_max = excluded.established_max,
            processes_sum = excluded.processes_sum, processes_max = excluded.processes_max
        """;

    internal const string HostMinutesSql = """
        INSERT INTO host_rollup_1m AS r (bucket, host_id, samples, file_handles_max, ephemeral_ports_max, tcp_orphans_max, conntrack_max,
            time_wait_max, open_fds_sum, open_fds_max, soft_limit_percent_max, close_wait_max, established_sum, established_max,
            processes_sum, processes_max)
        SELECT t.bucket, t.host_id, count(*), max(h.file_handles_allocated), max(h.ephemeral_ports_in_use), max(h.tcp_orphans),
            max(h.conntrack_count), max(h.tcp_time_wait), sum(h.open_fds), max(h.open_fds), max(h.worst_soft_limit_percent),
            max(h.close_wait), sum(h.established), max(h.established), sum(h.processes), max(h.processes)
        FROM unnest($1::integer[], $2::timestamptz[]) AS t(host_id, bucket)
        JOIN host_samples h ON h.host_id = t.host_id AND h.time >= t.bucket AND h.time < t.bucket + interval '1 minute'
            AND h.time >= $4 AND h.time < $5
        GROUP BY t.bucket, t.host_id
        ON CONFLICT (host_id, bucket) DO UPDATE SET
            samples = excluded.samples, file_handles_max = excluded.file_handles_max, ephemeral_ports_max = excluded.ephemeral_ports_max,
            tcp_orphans_max = excluded.tcp_orphans_max, conntrack_max = excluded.conntrack_max, time_wait_max = excluded.time_wait_max,
            open_fds_sum = excluded.open_fds_sum, open_fds_max = excluded.open_fds_max, soft_limit_percent_max = excluded.soft_limit_percent_max,
            close_wait_max = excluded.close_wait_max, established_sum = excluded.established_sum, established_max = excluded.established_max,
            processes_sum = excluded.processes_sum, processes_max = excluded.processes_max
        """;

    // DO UPDATE locks the row, so the hour stage (SKIP LOCKED) cannot take it before these minutes are committed.
    internal const string MarkHoursSql = """
        INSERT INTO rollup_queue_1h (host_id, hour)
        SELECT DISTINCT t.host_id, date_bin('1 hour', t.bucket, timestamptz '2000-01-01 00:00:00+00')
        FROM unnest($1::integer[], $2::timestamptz[]) AS t(host_id, bucket)
        ON CONFLICT (host_id, hour) DO UPDATE SET hour = excluded.hour
        """;

    internal const string ServiceHoursSql = """
        INSERT INTO service_rollup_1h AS r (bucket, service_id, host_id, samples, open_fds_sum, open_fds_max, soft_limit_percent_max,
            close_wait_max, established_sum, established_max, processes_sum, processes_max)
        SELECT t.bucket, m.service_id, min(m.host_id), sum(m.samples), sum(m.open_fds_sum), max(m.open_fds_max), max(m.soft_limit_percent_max),
            max(m.close_wait_max), sum(m.established_sum), max(m.established_max), sum(m.processes_sum), max(m.processes_max)
        FROM unnest($1::integer[], $2::timestamptz[]) AS t(host_id, bucket)
        JOIN services sv ON sv.host_id = t.host_id AND sv.first_seen < t.bucket + interval '1 hour' AND sv.last_seen >= t.bucket - $3::interval
        JOIN service_rollup_1m m ON m.service_id = sv.id AND m.bucket >= t.bucket AND m.bucket < t.bucket + interval '1 hour'
            AND m.bucket >= $4 AND m.bucket < $5
        GROUP BY t.bucket, m.service_id
        ON CONFLICT (service_id, bucket) DO UPDATE SET
            host_id = excluded.host_id, samples = excluded.samples, open_fds_sum = excluded.open_fds_sum, open_fds_max = excluded.open_fds_max,
            soft_limit_percent_max = excluded.soft_limit_percent_max, close_wait_max = excluded.close_wait_max,
            established_sum = excluded.established_sum, established_max = excluded.established_max,
            processes_sum = excluded.processes_sum, processes_max = excluded.processes_max
        """;

    internal const string HostHoursSql = """
        INSERT INTO host_rollup_1h AS r (bucket, host_id, samples, file_handles_max, ephemeral_ports_max, tcp_orphans_max, conntrack_max,
            time_wait_max, open_fds_sum, open_fds_max, soft_limit_percent_max, close_wait_max, established_sum, established_max,
            processes_sum, processes_max)
        SELECT t.bucket, t.host_id, sum(m.samples), max(m.file_handles_max), max(m.ephemeral_ports_max), max(m.tcp_orphans_max),
            max(m.conntrack_max), max(m.time_wait_max), sum(m.open_fds_sum), max(m.open_fds_max), max(m.soft_limit_percent_max),
            max(m.close_wait_max), sum(m.established_sum), max(m.established_max), sum(m.processes_sum), max(m.processes_max)
        FROM unnest($1::integer[], $2::timestamptz[]) AS t(host_id, bucket)
        JOIN host_rollup_1m m ON m.host_id = t.host_id AND m.bucket >= t.bucket AND m.bucket < t.bucket + interval '1 hour'
            AND m.bucket >= $4 AND m.bucket < $5
        GROUP BY t.bucket, t.host_id
        ON CONFLICT (host_id, bucket) DO UPDATE SET
            samples = excluded.samples, file_handles_max = excluded.file_handles_max, ephemeral_ports_max = excluded.ephemeral_ports_max,
            tcp_orphans_max = excluded.tcp_orphans_max, conntrack_max = excluded.conntrack_max, time_wait_max = excluded.time_wait_max,
            open_fds_sum = excluded.open_fds_sum, open_fds_max = excluded.open_fds_max, soft_limit_percent_max = excluded.soft_limit_percent_max,
            close_wait_max = excluded.close_wait_max, established_sum = excluded.established_sum, established_max = excluded.established_max,
            processes_sum = excluded.processes_sum, processes_max = excluded.processes_max
        """;

    private readonly StorageOptions _options = options.Value;

    /// <summary>Re-aggregates every marked minute bucket (and marks its hour); returns what it did.</summary>
    public Task<RollupResult> RollUpMinutesAsync(CancellationToken ct) =>
        DrainAsync(TakeMinutesSql, ServiceMinutesSql, HostMinutesSql, markHours: true, ct);

    /// <summary>Re-aggregates every marked hour bucket from the minute rollups.</summary>
    public Task<RollupResult> RollUpHoursAsync(CancellationToken ct) =>
        DrainAsync(TakeHoursSql, ServiceHoursSql, HostHoursSql, markHours: false, ct);

    private async Task<RollupResult> DrainAsync(string takeSql, string serviceSql, string hostSql, bool markHours, CancellationToken ct)
    {
        int buckets = 0, serviceRows = 0, hostRows = 0;
        while (true)
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            var hosts = new List<int>();
            var starts = new List<DateTime>();
            int taken = 0;
            await using (var take = new NpgsqlCommand(takeSql, conn, tx) { Parameters = { new NpgsqlParameter<int> { TypedValue = BatchSize } } })
            await using (var reader = await take.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    taken++;
                    var start = reader.GetFieldValue<DateTime>(1);
                    // Buckets of days past the raw retention have neither raw rows nor (perhaps) partitions left.
                    if (DateOnly.FromDateTime(start) >= partitions.RawCutoff)
                    {
                        hosts.Add(reader.GetInt32(0));
                        starts.Add(start);
                    }
                }
            }
            if (hosts.Count > 0)
            {
                var span = (From: starts.Min(), To: starts.Max() + (markHours ? TimeSpan.FromMinutes(1) : TimeSpan.FromHours(1)));
                serviceRows += await ExecuteAsync(conn, tx, serviceSql, hosts, starts, span, ct);
                hostRows += await ExecuteAsync(conn, tx, hostSql, hosts, starts, span, ct);
                if (markHours)
                {
                    await ExecuteAsync(conn, tx, MarkHoursSql, hosts, starts, span, ct);
                }
            }
            await tx.CommitAsync(ct);
            buckets += hosts.Count;
            if (taken < BatchSize)
            {
                return new RollupResult(buckets, serviceRows, hostRows);
            }
        }
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, List<int> hosts, List<DateTime> starts, (DateTime From, DateTime To) span, CancellationToken ct)
    {
        await using var cmd = Command(sql, hosts, starts, span);
        cmd.Connection = conn;
        cmd.Transaction = tx;
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A rollup statement with its parameters: the (host, bucket) pairs, the services' last-seen lag, the batch's span.</summary>
    internal static NpgsqlCommand Command(string sql, IReadOnlyList<int> hosts, IReadOnlyList<DateTime> starts, (DateTime From, DateTime To) span)
    {
        var cmd = new NpgsqlCommand(sql)
        {
            Parameters =
            {
                new NpgsqlParameter<int[]> { TypedValue = [.. hosts] },
                new NpgsqlParameter<DateTime[]> { TypedValue = [.. starts], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
            },
        };
        bool bounded = sql.Contains("$4", StringComparison.Ordinal);
        if (bounded || sql.Contains("$3", StringComparison.Ordinal))
        {
            // $3 is only used by the service statements; the host ones number their bounds $4 and $5 all the same.
            cmd.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = ServiceEntity.LastSeenResolution, NpgsqlDbType = NpgsqlDbType.Interval });
        }
        if (bounded)
        {
            cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = span.From, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            cmd.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = span.To, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        }
        return cmd;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.RollupInterval, time);
        var lastHours = time.GetUtcNow();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var minutes = await RollUpMinutesAsync(stoppingToken);
                    LogRolledUp(logger, "1m", minutes.Buckets, minutes.ServiceRows, minutes.HostRows);
                    if (time.GetUtcNow() - lastHours >= _options.HourRollupInterval)
                    {
                        lastHours = time.GetUtcNow();
                        var hours = await RollUpHoursAsync(stoppingToken);
                        LogRolledUp(logger, "1h", hours.Buckets, hours.ServiceRows, hours.HostRows);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Rollup {Resolution}: {Buckets} (host, bucket) pairs, {ServiceRows} service rows, {HostRows} host rows")]
    private static partial void LogRolledUp(ILogger logger, string resolution, int buckets, int serviceRows, int hostRows);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rollup failed; the marked buckets stay queued and are tried again at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
