using Fleet.Contracts.V1;
using Fleet.Server.Api;
using Fleet.Server.Ingest;
using Fleet.Web.Data;
using Npgsql;
using NpgsqlTypes;

namespace Fleet.Server.Storage.Queries;

/// <summary>The API's reads, each one SQL statement the database answers from an index or a rollup.</summary>
public sealed class PostgresFleetQueries(NpgsqlDataSource dataSource, TimeProvider time, AgentConfigPublisher? agentConfig = null) : IFleetQueries
{
    /// <summary>Ranges up to this long are answered from the raw samples.</summary>
    public static readonly TimeSpan RawMaxRange = TimeSpan.FromHours(6);

    /// <summary>Ranges up to this long are answered from the 1-minute rollups; longer ones from the 1-hour rollups.</summary>
    public static readonly TimeSpan MinuteMaxRange = TimeSpan.FromDays(7);

    public const int MaxPoints = 10_000;


    private const string ListHostsSql = """
        SELECT h.hostname, h.machine_id, h.last_seen, h.agent_version, ws.name,
            hs.worst_soft_limit_percent, hs.worst_headroom_fds, hs.close_wait + hs.unowned_close_wait, hs.file_handles_allocated, hs.file_handles_max,
            hs.ephemeral_ports_in_use, hs.ephemeral_port_low, hs.ephemeral_port_high,
            (SELECT value FROM settings WHERE key = 'agent')::text
        FROM hosts h
        LEFT JOIN LATERAL (
            SELECT * FROM host_samples s WHERE s.host_id = h.id AND s.time = h.latest_collected_at LIMIT 1
        ) hs ON true
        LEFT JOIN services ws ON ws.id = hs.worst_service_id
        ORDER BY h.hostname, h.machine_id
        """;

    private const string LatestSql = """
        SELECT latest_snapshot FROM hosts WHERE hostname = $1 AND latest_snapshot IS NOT NULL
        ORDER BY last_seen DESC LIMIT 1
        """;

    private const string FindHostSql = """
        SELECT h.id, h.hostname, s.id
        FROM hosts h LEFT JOIN services s ON s.host_id = h.id AND s.name = $2
        WHERE h.hostname = $1
        ORDER BY h.last_seen DESC LIMIT 1
        """;

    public async Task<IReadOnlyList<HostSummary>> ListHostsAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var hosts = new List<HostSummary>();
        await using var cmd = dataSource.CreateCommand(ListHostsSql);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        TimeSpan? interval = null;
        while (await reader.ReadAsync(ct))
        {
            interval ??= AgentSetting.Interval(agentConfig, reader.IsDBNull(13) ? null : reader.GetString(13));
            var lastSeen = reader.GetFieldValue<DateTimeOffset>(2);
            bool sampled = !reader.IsDBNull(5);
            long low = sampled ? reader.GetInt32(11) : 0, high = sampled ? reader.GetInt32(12) : 0;
            hosts.Add(new HostSummary(
                Name: reader.GetString(0),
                MachineId: reader.GetString(1),
                LastSeen: lastSeen,
                AgentVersion: reader.GetString(3),
                Status: Status(lastSeen, now, interval.Value),
                WorstService: reader.IsDBNull(4) ? null : reader.GetString(4),
                WorstSoftLimitPercent: sampled ? reader.GetFloat(5) : 0,
                WorstHeadroomFds: sampled ? (ulong)reader.GetInt64(6) : 0,
                CloseWaitTotal: sampled ? (ulong)reader.GetInt64(7) : 0,
                FileHandlesAllocated: sampled ? (ulong)reader.GetInt64(8) : 0,
                FileHandlesMax: sampled ? (ulong)reader.GetInt64(9) : 0,
                EphemeralPortsInUse: sampled ? (ulong)reader.GetInt64(10) : 0,
                EphemeralPortRange: high >= low && sampled ? (ulong)(high - low + 1) : 0));
        }
        return hosts;
    }

    /// <summary>live: seen within 3 agent intervals; stale: within 15 minutes; offline: longer ago.</summary>
    public static string Status(DateTimeOffset? lastSeen, DateTimeOffset now, TimeSpan interval) =>
        HostStatusRule.Of(lastSeen, now, interval) switch
        {
            HostStatus.Live => "live",
            HostStatus.Stale => "stale",
            _ => "offline",
        };

    public async Task<Snapshot?> LatestSnapshotAsync(string hostName, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(LatestSql);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = hostName });
        return await cmd.ExecuteScalarAsync(ct) is byte[] bytes ? Snapshot.Parser.ParseFrom(bytes) : null;
    }

    public async Task<SeriesResult?> SeriesAsync(SeriesQuery query, CancellationToken ct)
    {
        var metric = SeriesMetrics.Find(query.Metric);
        if (metric.HostFigure && query.Service is not null)
        {
            throw new ArgumentException($"metric '{metric.Name}' is a host figure and has no per-service series; service metrics: "
                + string.Join(", ", SeriesMetrics.All.Where(m => !m.HostFigure).Select(m => m.Name)), nameof(query));
        }
        if (query.To <= query.From)
        {
            throw new ArgumentException("'to' must be after 'from'", nameof(query));
        }
        if (query.Step <= TimeSpan.Zero)
        {
            throw new ArgumentException("'step' must be positive", nameof(query));
        }
        var (source, resolution) = ChooseSource(query.To - query.From, query.Step);
        var step = resolution == TimeSpan.Zero
            ? query.Step
            : TimeSpan.FromTicks((query.Step.Ticks + resolution.Ticks - 1) / resolution.Ticks * resolution.Ticks);
        if ((query.To - query.From) / step > MaxPoints)
        {
            throw new ArgumentException($"{(query.To - query.From) / step:0} points asked; at most {MaxPoints}: choose a larger step", nameof(query));
        }

        await using var conn = await dataSource.OpenConnectionAsync(ct);
        int hostId;
        string hostName;
        int? serviceId;
        await using (var find = new NpgsqlCommand(FindHostSql, conn))
        {
            find.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query.Host });
            find.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query.Service ?? "" });
            await using var reader = await find.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return null;
            }
            hostId = reader.GetInt32(0);
            hostName = reader.GetString(1);
            serviceId = reader.IsDBNull(2) ? null : reader.GetInt32(2);
        }
        if (query.Service is not null && serviceId is null)
        {
            return null;
        }

        bool perService = query.Service is not null;
        var (table, timeColumn, keyColumn, expression) = (source, perService) switch
        {
            ("raw", true) => ("service_samples", "time", "service_id", metric.RawService!),
            ("raw", false) => ("host_samples", "time", "host_id", metric.RawHost),
            (_, true) => ($"service_rollup_{source}", "bucket", "service_id", metric.RollupService!),
            _ => ($"host_rollup_{source}", "bucket", "host_id", metric.RollupHost),
        };
        // A rollup bucket counts when it starts within the range (at the rollup's resolution).
        string sql = $"""
            SELECT g.b, v.value
            FROM generate_series(date_bin($1, $2, $4), $3, $1) AS g(b)
            LEFT JOIN (
                SELECT date_bin($1, {timeColumn}, $4) AS b, ({expression})::float8 AS value
                FROM {table}
                WHERE {keyColumn} = $5 AND {timeColumn} >= date_bin($6, $2, $4) AND {timeColumn} < $3
                GROUP BY 1
            ) v ON v.b = g.b
            WHERE g.b < $3
            ORDER BY g.b
            """;
        await using var cmd = new NpgsqlCommand(sql, conn)
        {
            Parameters =
            {
                new NpgsqlParameter<TimeSpan> { TypedValue = step, NpgsqlDbType = NpgsqlDbType.Interval },
                new NpgsqlParameter<DateTime> { TypedValue = query.From.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new NpgsqlParameter<DateTime> { TypedValue = query.To.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new NpgsqlParameter<DateTime> { TypedValue = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc), NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new NpgsqlParameter<int> { TypedValue = perService ? serviceId!.Value : hostId },
                new NpgsqlParameter<TimeSpan> { TypedValue = resolution == TimeSpan.Zero ? TimeSpan.FromTicks(10) : resolution, NpgsqlDbType = NpgsqlDbType.Interval },
            },
        };
        var points = new List<SeriesPoint>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                points.Add(new SeriesPoint(reader.GetFieldValue<DateTimeOffset>(0), reader.IsDBNull(1) ? null : reader.GetDouble(1)));
            }
        }
        return new SeriesResult(hostName, query.Service, metric.Name, step, source, points);
    }

    /// <summary>raw up to 6 hours, the 1-minute rollup up to 7 days (or the 1-hour one when the step is an hour or more), else the 1-hour rollup.</summary>
    public static (string Source, TimeSpan Resolution) ChooseSource(TimeSpan range, TimeSpan step) =>
        range <= RawMaxRange ? ("raw", TimeSpan.Zero)
        : range <= MinuteMaxRange && step < TimeSpan.FromHours(1) ? ("1m", TimeSpan.FromMinutes(1))
        : ("1h", TimeSpan.FromHours(1));
}
