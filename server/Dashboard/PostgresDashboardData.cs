using Fleet.Server.Ingest;
using Fleet.Server.Projection;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Queries;
using System.Net;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Npgsql;
using NpgsqlTypes;
using Metrics = Fleet.Server.Storage.Queries.SeriesMetrics;

namespace Fleet.Server.Dashboard;

/// <summary>
/// The pages' reads over PostgreSQL. The latest figures come from each host's latest snapshot (hosts.latest_snapshot)
/// and the samples taken at its time (found by the (host_id, time) and (service_id, time) indexes); series are one
/// statement per table for every line of a chart at once, grouped by line and bucket in the database, from the raw
/// samples up to 6 hours and from the 1-minute or 1-hour rollups beyond (<see cref="SeriesPlan"/>). A name that
/// cannot be stored (longer than <see cref="MaxNameLength"/>, empty, with NUL or a lone surrogate) is unknown.
/// </summary>
public sealed class PostgresDashboardData(NpgsqlDataSource dataSource, AgentConfigPublisher? agentConfig = null) : IDashboardData
{
    public const int MaxNameLength = 256;

    /// <summary>Service instances listed as at risk in the overview.</summary>
    public const int AtRiskCount = 10;


    private static readonly string[] ServiceMetrics = ["close_wait", "soft_limit_percent", "open_fds"];

    private static readonly string[] HostMetrics = ["file_handles", "ephemeral_ports", "tcp_orphans", "conntrack"];

    private const string IntervalColumn = "(SELECT value::text FROM settings WHERE key = 'agent')";

    private const string HostsSql = """
        SELECT h.hostname, h.machine_id, h.last_seen, h.agent_version, ws.name,
            hs.worst_soft_limit_percent, hs.worst_headroom_fds, hs.open_fds, hs.close_wait + hs.unowned_close_wait,
            hs.file_handles_allocated, hs.file_handles_max, hs.ephemeral_ports_in_use, hs.ephemeral_port_low, hs.ephemeral_port_high,
            hs.conntrack_count, hs.conntrack_max, hs.agent_processes_seen, hs.agent_processes_unreadable
        FROM hosts h
        LEFT JOIN LATERAL (
            SELECT * FROM host_samples s WHERE s.host_id = h.id AND s.time = h.latest_collected_at LIMIT 1
        ) hs ON true
        LEFT JOIN services ws ON ws.id = hs.worst_service_id
        ORDER BY h.hostname, h.machine_id
        """;

    // Each host's services in its latest snapshot (their last seen lags by at most LastSeenResolution), and their
    // rows at that time by the (service_id, time) index. Ties: the least headroom (an unlimited or unknown limit has the most).
    // Leaking instances first, the soonest to reach the soft limit first (their projection, by the projection job);
    // then the rest by percent of the soft limit.
    private const string AtRiskSql = $"""
        SELECT h.hostname, sv.name, ss.time, ss.process_count, ss.open_fds, ss.worst_pid, ss.worst_open_fds,
            ss.worst_nofile_soft, ss.worst_nofile_hard, ss.worst_soft_limit_percent::float8, ss.tcp_close_wait, {ProjectionRows.Columns}
        FROM hosts h
        JOIN services sv ON sv.host_id = h.id AND sv.last_seen >= h.latest_collected_at - $1::interval
        JOIN service_samples ss ON ss.service_id = sv.id AND ss.time = h.latest_collected_at
        LEFT JOIN projections p ON p.service_id = sv.id AND p.series_key = ''
        WHERE h.latest_collected_at IS NOT NULL
        ORDER BY CASE WHEN p.verdict = $3 THEN p.exhausted_at END, ss.worst_soft_limit_percent DESC,
            CASE WHEN ss.worst_nofile_soft <= 0 THEN 9223372036854775807 ELSE greatest(ss.worst_nofile_soft::bigint - ss.worst_open_fds, 0) END,
            h.hostname, sv.name, h.machine_id
        LIMIT $2
        """;

    private const string FindHostSql = $"""
        SELECT id, hostname, machine_id, kernel, agent_version, last_seen, latest_snapshot, {IntervalColumn}
        FROM hosts WHERE hostname = $1 AND latest_snapshot IS NOT NULL
        ORDER BY last_seen DESC LIMIT 1
        """;

    /// <summary>The host's first sample at or after the window's start.</summary>
    private const string WindowStartSql = "SELECT time FROM host_samples WHERE host_id = $1 AND time >= $2 ORDER BY time LIMIT 1";

    private const string CloseWaitAtSql = """
        SELECT sv.name, c.remote, c.port, sum(c.count)::bigint
        FROM close_wait_samples c JOIN services sv ON sv.id = c.service_id
        WHERE c.host_id = $1 AND c.time = $2
        GROUP BY sv.name, c.remote, c.port
        """;

    /// <summary>The host's services that may have samples in the window, and those of its latest snapshot.</summary>
    private const string HostServicesSql = $"""
        SELECT sv.id, sv.name, {ProjectionRows.Columns} FROM services sv
        LEFT JOIN projections p ON p.service_id = sv.id AND p.series_key = ''
        WHERE sv.host_id = $1 AND ((sv.first_seen < $3 AND sv.last_seen >= $2 - $4::interval) OR sv.name = ANY($5))
        """;

    private const string InstancesSql = $"""
        SELECT sv.id, h.hostname, h.machine_id, h.last_seen, h.latest_collected_at, sv.last_seen,
            ls.time, ls.process_count, ls.open_fds, ls.worst_pid, ls.worst_open_fds, ls.worst_nofile_soft, ls.worst_nofile_hard,
            ls.worst_soft_limit_percent::float8, ls.tcp_close_wait, {IntervalColumn}, {ProjectionRows.Columns}
        FROM services sv
        JOIN hosts h ON h.id = sv.host_id
        LEFT JOIN LATERAL (
            SELECT * FROM service_samples ss WHERE ss.service_id = sv.id ORDER BY ss.time DESC LIMIT 1
        ) ls ON true
        LEFT JOIN projections p ON p.service_id = sv.id AND p.series_key = ''
        WHERE sv.name = $1
        ORDER BY h.hostname, h.machine_id
        """;

    public async Task<FleetOverview> OverviewAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(HostsSql),
                new NpgsqlBatchCommand(AtRiskSql)
                {
                    Parameters =
                    {
                        new NpgsqlParameter<TimeSpan> { TypedValue = ServiceEntity.LastSeenResolution, NpgsqlDbType = NpgsqlDbType.Interval },
                        new NpgsqlParameter<int> { TypedValue = AtRiskCount },
                        new NpgsqlParameter<short> { TypedValue = (short)LeakVerdict.Leak },
                    },
                },
                new NpgsqlBatchCommand($"SELECT {IntervalColumn}"),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(ct);
        var hosts = new List<HostRow>();
        while (await reader.ReadAsync(ct))
        {
            bool sampled = !reader.IsDBNull(5);
            long low = sampled ? reader.GetInt32(12) : 0, high = sampled ? reader.GetInt32(13) : 0;
            hosts.Add(new HostRow(
                Name: reader.GetString(0),
                MachineId: reader.GetString(1),
                LastSeen: reader.GetFieldValue<DateTimeOffset>(2),
                AgentVersion: reader.GetString(3),
                WorstService: reader.IsDBNull(4) ? null : reader.GetString(4),
                WorstSoftLimitPercent: sampled ? reader.GetFloat(5) : 0,
                WorstHeadroomFds: sampled ? Unsigned(reader.GetInt64(6)) : 0,
                OpenFds: sampled ? Unsigned(reader.GetInt64(7)) : 0,
                CloseWaitTotal: sampled ? Unsigned(reader.GetInt64(8)) : 0,
                FileHandlesAllocated: sampled ? Unsigned(reader.GetInt64(9)) : 0,
                FileHandlesMax: sampled ? Unsigned(reader.GetInt64(10)) : 0,
                EphemeralPortsInUse: sampled ? Unsigned(reader.GetInt64(11)) : 0,
                EphemeralPortRange: sampled && high >= low && high > 0 ? (ulong)(high - low + 1) : 0,
                ConntrackCount: sampled ? Unsigned(reader.GetInt64(14)) : 0,
                ConntrackMax: sampled ? Unsigned(reader.GetInt64(15)) : 0,
                Processes: sampled ? reader.GetInt32(16) : 0,
                UnreadableProcesses: sampled ? reader.GetInt32(17) : 0));
        }
        await reader.NextResultAsync(ct);
        var atRisk = new List<InstanceRisk>();
        while (await reader.ReadAsync(ct))
        {
            string host = reader.GetString(0), service = reader.GetString(1);
            atRisk.Add(Risk(reader, host, service, 2) with { Projection = ProjectionRows.Read(reader, 11, host, service) });
        }
        await reader.NextResultAsync(ct);
        string? settings = await reader.ReadAsync(ct) && !reader.IsDBNull(0) ? reader.GetString(0) : null;
        return new FleetOverview(hosts, atRisk, AgentSetting.Interval(agentConfig, settings));
    }

    public async Task<HostDetail?> HostDetailAsync(string hostName, TimeWindow window, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(window);
        if (!IsName(hostName))
        {
            return null;
        }
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var host = await FindHostAsync(conn, hostName, ct);
        return host is null ? null : await DetailAsync(conn, host, SeriesPlan.For(window), ct);
    }

    public async Task<HostView?> HostAsync(string hostName, TimeWindow window, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(window);
        if (!IsName(hostName))
        {
            return null;
        }
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var host = await FindHostAsync(conn, hostName, ct);
        if (host is null)
        {
            return null;
        }
        var plan = SeriesPlan.For(window);
        var detail = await DetailAsync(conn, host, plan, ct);

        string[] latestNames = [.. host.Latest.Services.Select(s => s.Name)];
        var services = new Dictionary<int, string>();
        var projections = new Dictionary<string, ProjectionView>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand(HostServicesSql, conn)
        {
            Parameters =
            {
                new NpgsqlParameter<int> { TypedValue = host.Id },
                Timestamp(plan.From),
                Timestamp(plan.To),
                new NpgsqlParameter<TimeSpan> { TypedValue = ServiceEntity.LastSeenResolution, NpgsqlDbType = NpgsqlDbType.Interval },
                new NpgsqlParameter<string[]> { TypedValue = latestNames },
            },
        })
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                services[reader.GetInt32(0)] = reader.GetString(1);
                if (ProjectionRows.Read(reader, 2, host.Name, reader.GetString(1)) is { } projection)
                {
                    projections[projection.Service] = projection;
                }
            }
        }
        if (projections.Count > 0)
        {
            detail = detail with
            {
                Services = [.. detail.Services.Select(s => projections.TryGetValue(s.Name, out var p) ? s with { Projection = p } : s)],
            };
        }

        var perService = await SeriesAsync(conn, plan, perService: true, [.. services.Keys], ServiceMetrics, ct);
        var perHost = await SeriesAsync(conn, plan, perService: false, [host.Id], HostMetrics, ct);

        var latest = new HashSet<string>(latestNames, StringComparer.Ordinal);
        var shown = services
            .Where(s => perService.ContainsKey(s.Key) || latest.Contains(s.Value))
            .OrderBy(s => s.Value, StringComparer.Ordinal)
            .ToList();
        SeriesSet ServiceSet(int metric) => plan.Set(ServiceMetrics[metric],
            [.. shown.Select(s => plan.Series(s.Value, perService.TryGetValue(s.Key, out var v) ? v[metric] : plan.Empty()))]);
        SeriesSet HostSet(int metric) => plan.Set(HostMetrics[metric],
            [plan.Series(host.Name, perHost.TryGetValue(host.Id, out var v) ? v[metric] : plan.Empty())]);

        return new HostView(detail, new HostSeries(
            CloseWaitByService: ServiceSet(0),
            SoftLimitPercentByService: ServiceSet(1),
            OpenFdsByService: ServiceSet(2),
            FileHandles: HostSet(0),
            EphemeralPorts: HostSet(1),
            TcpOrphans: HostSet(2),
            Conntrack: HostSet(3)));
    }

    public async Task<ServiceView?> ServiceAsync(string serviceName, TimeWindow window, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(window);
        if (!IsName(serviceName))
        {
            return null;
        }
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var instances = new List<(int ServiceId, string MachineId, bool InLatest, InstanceRow Row)>();
        await using (var cmd = new NpgsqlCommand(InstancesSql, conn) { Parameters = { new NpgsqlParameter<string> { TypedValue = serviceName } } })
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            TimeSpan? interval = null;
            while (await reader.ReadAsync(ct))
            {
                interval ??= AgentSetting.Interval(agentConfig, reader.IsDBNull(15) ? null : reader.GetString(15));
                string hostName = reader.GetString(1);
                DateTime? hostLatest = reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTime>(4);
                DateTime? sampled = reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTime>(6);
                var risk = (sampled is null
                    ? new InstanceRisk(hostName, serviceName, reader.GetFieldValue<DateTimeOffset>(5), 0, 0, 0, 0, 0, 0, 0, 0)
                    : Risk(reader, hostName, serviceName, 6)) with { Projection = ProjectionRows.Read(reader, 16, hostName, serviceName) };
                instances.Add((reader.GetInt32(0), reader.GetString(2), sampled is not null && sampled == hostLatest,
                    new InstanceRow(hostName, reader.GetFieldValue<DateTimeOffset>(3), interval.Value, risk)));
            }
        }
        if (instances.Count == 0)
        {
            return null;
        }

        var plan = SeriesPlan.For(window);
        var series = await SeriesAsync(conn, plan, perService: true, [.. instances.Select(i => i.ServiceId)], ServiceMetrics, ct);
        var shared = instances.GroupBy(i => i.Row.Host, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        var shown = instances
            .Where(i => i.InLatest || series.ContainsKey(i.ServiceId))
            .Select(i => (i.ServiceId, Name: shared.Contains(i.Row.Host) ? $"{i.Row.Host} ({i.MachineId})" : i.Row.Host))
            .ToList();
        SeriesSet Set(int metric) => plan.Set(ServiceMetrics[metric],
            [.. shown.Select(i => plan.Series(i.Name, series.TryGetValue(i.ServiceId, out var v) ? v[metric] : plan.Empty()))]);

        return new ServiceView(serviceName, [.. instances.Select(i => i.Row)], OpenFdsByInstance: Set(2), SoftLimitPercentByInstance: Set(1), CloseWaitByInstance: Set(0));
    }

    /// <summary>Whether a name can be a stored host or service name: 1 to 256 characters of well-formed UTF-16 without NUL (PostgreSQL text refuses NUL).</summary>
    internal static bool IsName(string? name) => name is { Length: > 0 and <= MaxNameLength } && StoredText.IsStorable(name);

    private async Task<HostDetails.StoredHost?> FindHostAsync(NpgsqlConnection conn, string hostName, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(FindHostSql, conn) { Parameters = { new NpgsqlParameter<string> { TypedValue = hostName } } };
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return HostDetails.StoredHost.Read(reader, agentConfig);
    }

    /// <summary>The detail of the latest snapshot, with the CLOSE_WAIT counts per (remote, service) at the host's first sample in the window.</summary>
    private static async Task<HostDetail> DetailAsync(NpgsqlConnection conn, HostDetails.StoredHost host, SeriesPlan plan, CancellationToken ct)
    {
        DateTime? start;
        await using (var cmd = new NpgsqlCommand(WindowStartSql, conn)
        {
            Parameters = { new NpgsqlParameter<int> { TypedValue = host.Id }, Timestamp(plan.From) },
        })
        {
            start = await cmd.ExecuteScalarAsync(ct) is DateTime t ? t : null;
        }
        Dictionary<(string Remote, string Service), ulong>? counts = null;
        if (start is { } at && host.Latest.Services.Any(s => s.CloseWaitRemotes.Count > 0))
        {
            counts = [];
            await using var cmd = new NpgsqlCommand(CloseWaitAtSql, conn)
            {
                Parameters = { new NpgsqlParameter<int> { TypedValue = host.Id }, Timestamp(at) },
            };
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var key = (HostDetails.Remote(reader.GetFieldValue<IPAddress>(1), (uint)reader.GetInt32(2)), reader.GetString(0));
                counts[key] = counts.GetValueOrDefault(key) + Unsigned(reader.GetInt64(3));
            }
        }
        return HostDetails.Map(host, counts);
    }

    /// <summary>
    /// The buckets with data of every line at once (keys: service ids or host ids), one column per metric, each
    /// the metric's aggregate over the bucket; keys without data in the window are absent.
    /// </summary>
    private static async Task<Dictionary<int, double?[][]>> SeriesAsync(
        NpgsqlConnection conn, SeriesPlan plan, bool perService, int[] keys, string[] metricNames, CancellationToken ct)
    {
        var result = new Dictionary<int, double?[][]>();
        if (keys.Length == 0)
        {
            return result;
        }
        var metrics = metricNames.Select(Metrics.Find).ToArray();
        var (table, timeColumn, keyColumn) = (plan.Raw, perService) switch
        {
            (true, true) => ("service_samples", "time", "service_id"),
            (true, false) => ("host_samples", "time", "host_id"),
            (false, true) => ($"service_rollup_{plan.Source}", "bucket", "service_id"),
            (false, false) => ($"host_rollup_{plan.Source}", "bucket", "host_id"),
        };
        var columns = metrics.Select(m => (plan.Raw, perService) switch
        {
            (true, true) => m.RawService!,
            (true, false) => m.RawHost,
            (false, true) => m.RollupService!,
            (false, false) => m.RollupHost,
        });
        string sql = $"""
            SELECT {keyColumn}, date_bin($1, {timeColumn}, $2), {string.Join(", ", columns.Select(c => $"({c})::float8"))}
            FROM {table}
            WHERE {keyColumn} = ANY($3) AND {timeColumn} >= $4 AND {timeColumn} < $5
            GROUP BY 1, 2
            """;
        await using var cmd = new NpgsqlCommand(sql, conn)
        {
            Parameters =
            {
                new NpgsqlParameter<TimeSpan> { TypedValue = plan.Step, NpgsqlDbType = NpgsqlDbType.Interval },
                Timestamp(SeriesPlan.Origin),
                new NpgsqlParameter<int[]> { TypedValue = keys },
                Timestamp(plan.Lower),
                Timestamp(plan.To),
            },
        };
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            int index = plan.Index(reader.GetFieldValue<DateTime>(1));
            if (index < 0)
            {
                continue;
            }
            int key = reader.GetInt32(0);
            if (!result.TryGetValue(key, out var values))
            {
                values = [.. metrics.Select(_ => plan.Empty())];
                result[key] = values;
            }
            for (int m = 0; m < metrics.Length; m++)
            {
                values[m][index] = reader.IsDBNull(2 + m) ? null : reader.GetDouble(2 + m);
            }
        }
        return result;
    }

    /// <summary>An instance's figures from a service_samples row read from column <paramref name="at"/> on (time, processes, open fds, worst pid, its fds, soft, hard, percent, CLOSE_WAIT).</summary>
    private static InstanceRisk Risk(NpgsqlDataReader reader, string host, string service, int at) => new(
        host,
        service,
        reader.GetFieldValue<DateTimeOffset>(at),
        reader.GetInt32(at + 1),
        Unsigned(reader.GetInt32(at + 2)),
        reader.GetInt32(at + 3),
        Unsigned(reader.GetInt32(at + 4)),
        Limit(reader.GetInt32(at + 5)),
        Limit(reader.GetInt32(at + 6)),
        reader.GetDouble(at + 7),
        Unsigned(reader.GetInt32(at + 8)));

    private static NpgsqlParameter<DateTime> Timestamp(DateTime t) =>
        new() { TypedValue = DateTime.SpecifyKind(t, DateTimeKind.Utc), NpgsqlDbType = NpgsqlDbType.TimestampTz };

    private static ulong Unsigned(long value) => value < 0 ? 0 : (ulong)value;

    /// <summary>A stored limit: -1 is unlimited (RLIMIT_INFINITY, max uint64 as the contract sends it).</summary>
    private static ulong Limit(int value) => value < 0 ? ulong.MaxValue : (ulong)value;
}
