using System.Globalization;
using Fleet.Server.Storage.Series;
using Npgsql;
using NpgsqlTypes;

namespace Fleet.Server.Snapshots;

/// <summary>
/// Reads the stored samples of some hosts in a window at full resolution, for a snapshot: host_samples,
/// service_samples (of the hosts' services, or only of one), process_samples and close_wait_samples, each by its
/// (host_id, time) or (service_id, time) index, ids replaced by names. Counted first, so a window too large for one
/// snapshot is refused before anything is read.
/// </summary>
internal sealed class RawSeries(NpgsqlDataSource dataSource)
{
    public const string HostSamples = "host_samples";
    public const string ServiceSamples = "service_samples";
    public const string ProcessSamples = "process_samples";
    public const string CloseWaitSamples = "close_wait_samples";

    /// <summary>The tables in the order they are kept, with their columns as kept (ids replaced by names).</summary>
    public static IReadOnlyDictionary<string, string[]> Tables { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [HostSamples] = [.. SeriesColumns.HostSamples.Select(KeptName)],
        [ServiceSamples] = [.. SeriesColumns.ServiceSamples.Select(KeptName)],
        [ProcessSamples] = [.. SeriesColumns.ProcessSamples.Select(KeptName)],
        [CloseWaitSamples] = [.. SeriesColumns.CloseWaitSamples.Select(KeptName)],
    };

    /// <summary>Columns holding text (names, commands, addresses) rather than numbers, times or flags.</summary>
    public static IReadOnlySet<string> TextColumns { get; } = new HashSet<string>(StringComparer.Ordinal) { "host", "service", "worst_service", "comm", "remote", "top_ephemeral_address" };

    private static readonly (string Table, string[] Columns, string Filter, string Order)[] Reads =
    [
        (HostSamples, SeriesColumns.HostSamples, "host_id = ANY($1)", "host_id, time"),
        (ServiceSamples, SeriesColumns.ServiceSamples, "service_id = ANY($4)", "host_id, service_id, time"),
        (ProcessSamples, SeriesColumns.ProcessSamples, "host_id = ANY($1)", "host_id, time, pid, start_ticks"),
        (CloseWaitSamples, SeriesColumns.CloseWaitSamples, "host_id = ANY($1)", "host_id, time, service_id, pid, remote, port"),
    ];

    private static readonly string[] InetColumns = ["remote", "top_ephemeral_address"];

    /// <summary>The host ids of names, as the pages pick a host (the newest of one name with a latest snapshot); a name without one is left out.</summary>
    public async Task<Dictionary<string, int>> HostIdsAsync(IEnumerable<string> names, CancellationToken ct)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var conn = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        foreach (string name in names)
        {
            await using var cmd = new NpgsqlCommand(
                "SELECT id FROM hosts WHERE hostname = $1 AND latest_snapshot IS NOT NULL ORDER BY last_seen DESC LIMIT 1", conn)
            {
                Parameters = { new NpgsqlParameter<string> { TypedValue = name } },
            };
            if (await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is int id)
            {
                ids[name] = id;
            }
        }
        return ids;
    }

    /// <summary>Rows of the window in every table.</summary>
    public async Task<long> CountAsync(Scope scope, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        var serviceIds = await ServiceIdsAsync(conn, scope, ct).ConfigureAwait(false);
        string sql = "SELECT " + string.Join(" + ", Reads.Select(r => $"(SELECT count(*) FROM {r.Table} WHERE {r.Filter} AND time >= $2 AND time <= $3)"));
        await using var cmd = Command(sql, conn, scope, serviceIds.Keys.ToArray());
        return (long)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    public async Task<List<RawTable>> ReadAsync(Scope scope, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        var serviceIds = await ServiceIdsAsync(conn, scope, ct).ConfigureAwait(false);
        var hostNames = scope.HostIds.ToDictionary(h => h.Value, h => h.Key);
        var serviceNames = await ServiceNamesAsync(conn, scope, ct).ConfigureAwait(false);
        var tables = new List<RawTable>();
        foreach (var (table, columns, filter, order) in Reads)
        {
            string select = string.Join(", ", columns.Select(c => InetColumns.Contains(c) ? $"host({c})" : c));
            await using var cmd = Command($"SELECT {select} FROM {table} WHERE {filter} AND time >= $2 AND time <= $3 ORDER BY {order}", conn, scope, serviceIds.Keys.ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var rows = new List<string?[]>();
            // Rows of one snapshot share their time: its text is made once.
            DateTime lastTime = default;
            string lastTimeText = "";
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var row = new string?[columns.Length];
                for (int i = 0; i < columns.Length; i++)
                {
                    if (reader.IsDBNull(i))
                    {
                        continue;
                    }
                    row[i] = columns[i] switch
                    {
                        "host_id" => hostNames.GetValueOrDefault(reader.GetInt32(i)) ?? Invariant(reader.GetInt32(i)),
                        "service_id" or "worst_service_id" => serviceNames.GetValueOrDefault(reader.GetInt32(i)) ?? Invariant(reader.GetInt32(i)),
                        "time" => reader.GetDateTime(i) is var t && t == lastTime && lastTimeText.Length > 0 ? lastTimeText : (lastTimeText = Cell(lastTime = t)),
                        _ => Cell(reader.GetValue(i)),
                    };
                }
                rows.Add(row);
            }
            tables.Add(new RawTable(table, Tables[table], rows));
        }
        return tables;
    }

    /// <summary>What to read: host ids by name, the window (inclusive), and the one service whose samples are kept (null: all of the hosts').</summary>
    public sealed record Scope(IReadOnlyDictionary<string, int> HostIds, DateTimeOffset From, DateTimeOffset To, string? Service);

    private static string KeptName(string column) => column switch
    {
        "host_id" => "host",
        "service_id" => "service",
        "worst_service_id" => "worst_service",
        _ => column,
    };

    private static NpgsqlCommand Command(string sql, NpgsqlConnection conn, Scope scope, int[] serviceIds)
    {
        var cmd = new NpgsqlCommand(sql, conn)
        {
            Parameters =
            {
                new NpgsqlParameter<int[]> { TypedValue = [.. scope.HostIds.Values], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer },
                new NpgsqlParameter<DateTimeOffset> { TypedValue = scope.From.ToUniversalTime() },
                new NpgsqlParameter<DateTimeOffset> { TypedValue = scope.To.ToUniversalTime() },
            },
        };
        if (sql.Contains("$4", StringComparison.Ordinal))
        {
            cmd.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = serviceIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        }
        return cmd;
    }

    /// <summary>The ids of the services whose samples are kept.</summary>
    private static async Task<Dictionary<int, string>> ServiceIdsAsync(NpgsqlConnection conn, Scope scope, CancellationToken ct)
    {
        var all = await ServiceNamesAsync(conn, scope, ct).ConfigureAwait(false);
        return scope.Service is null ? all : all.Where(s => s.Value == scope.Service).ToDictionary();
    }

    /// <summary>Every service of the hosts (a worst service or a process may be of any of them).</summary>
    private static async Task<Dictionary<int, string>> ServiceNamesAsync(NpgsqlConnection conn, Scope scope, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT id, name FROM services WHERE host_id = ANY($1)", conn)
        {
            Parameters = { new NpgsqlParameter<int[]> { TypedValue = [.. scope.HostIds.Values], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer } },
        };
        var names = new Dictionary<int, string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            names[reader.GetInt32(0)] = reader.GetString(1);
        }
        return names;
    }

    /// <summary>The text of small counts, shared: most cells of a sample are small (zero TCP states, fd types).</summary>
    private static readonly string[] SmallInts = [.. Enumerable.Range(-1, 1026).Select(i => i.ToString(CultureInfo.InvariantCulture))];

    private static string Invariant(int value) => value is >= -1 and <= 1024 ? SmallInts[value + 1] : value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A value in invariant text: times as ISO-8601 UTC with microseconds, reals so they read back equal, arrays as [a,b].</summary>
    internal static string Cell(object value) => value switch
    {
        string s => s,
        int i => Invariant(i),
        short h => Invariant(h),
        long l when l is >= -1 and <= 1024 => Invariant((int)l),
        DateTime d => d.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        DateTimeOffset o => o.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        Array a => "[" + string.Join(",", a.Cast<object>().Select(Cell)) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
