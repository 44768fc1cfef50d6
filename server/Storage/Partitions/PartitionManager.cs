using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fleet.Server.Storage.Partitions;

internal enum PartitionSpan
{
    Day,
    Month,
}

internal enum RetentionClass
{
    Raw,
    MinuteRollup,
    HourRollup,
}

/// <summary>A table partitioned by range of time, named <c>{table}_pYYYYMMDD</c> (daily) or <c>{table}_pYYYYMM</c> (monthly).</summary>
internal sealed record PartitionedTable(string Name, PartitionSpan Span, RetentionClass Retention);

/// <summary>What one maintenance pass did.</summary>
public sealed record PartitionChanges(IReadOnlyList<string> Created, IReadOnlyList<string> Dropped, IReadOnlyList<string> Failed);

/// <summary>
/// Makes the partitions of the time-series tables (UTC days; months for the hour rollups) ahead of time and
/// on demand for a day that has none yet (a late snapshot), and drops whole partitions past their retention.
/// </summary>
public sealed partial class PartitionManager(NpgsqlDataSource dataSource, IOptions<StorageOptions> options, TimeProvider time, ILogger<PartitionManager> logger)
{
    internal static readonly PartitionedTable[] Tables =
    [
        new("service_samples", PartitionSpan.Day, RetentionClass.Raw),
        new("process_samples", PartitionSpan.Day, RetentionClass.Raw),
        new("close_wait_samples", PartitionSpan.Day, RetentionClass.Raw),
        new("host_samples", PartitionSpan.Day, RetentionClass.Raw),
        new("service_rollup_1m", PartitionSpan.Day, RetentionClass.MinuteRollup),
        new("host_rollup_1m", PartitionSpan.Day, RetentionClass.MinuteRollup),
        new("service_rollup_1h", PartitionSpan.Month, RetentionClass.HourRollup),
        new("host_rollup_1h", PartitionSpan.Month, RetentionClass.HourRollup),
    ];

    private readonly ConcurrentDictionary<DateOnly, bool> _readyDays = new();
    private readonly StorageOptions _options = options.Value;

    /// <summary>Today (UTC) by the injected clock.</summary>
    public DateOnly Today => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    /// <summary>The oldest day whose raw samples are kept: older snapshots have no partition to go to.</summary>
    public DateOnly RawCutoff => Today.AddDays(-_options.RawRetentionDays);

    /// <summary>Makes sure every time-series table has a partition for this day (an on-demand, rare path; cached once made).</summary>
    public async ValueTask EnsureDayAsync(DateOnly day, CancellationToken ct)
    {
        if (_readyDays.ContainsKey(day))
        {
            return;
        }
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        foreach (var table in Tables)
        {
            await CreateAsync(conn, table, day, ct);
        }
        _readyDays[day] = true;
    }

    /// <summary>Forgets that a day's partitions exist (after the database said one is missing).</summary>
    public void Forget(DateOnly day) => _readyDays.TryRemove(day, out _);

    /// <summary>Makes the partitions from today to <see cref="StorageOptions.PartitionDaysAhead"/> days ahead and drops expired ones.</summary>
    public async Task<PartitionChanges> MaintainAsync(CancellationToken ct)
    {
        var today = Today;
        var created = new List<string>();
        var dropped = new List<string>();
        var failed = new List<string>();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using (var set = new NpgsqlCommand("SET lock_timeout = '10s'", conn))
        {
            await set.ExecuteNonQueryAsync(ct);
        }
        var existing = await ListAsync(conn, ct);

        for (int i = 0; i <= _options.PartitionDaysAhead; i++)
        {
            var day = today.AddDays(i);
            foreach (var table in Tables)
            {
                string name = PartitionName(table, day);
                if (!existing.Contains((table.Name, name)) && await CreateAsync(conn, table, day, ct))
                {
                    created.Add(name);
                    existing.Add((table.Name, name));
                }
            }
            _readyDays[day] = true;
        }

        foreach (var (parent, name) in existing)
        {
            var table = Tables.First(t => t.Name == parent);
            if (ParseStart(table, name) is not { } start || End(table, start) > Cutoff(table, today))
            {
                continue;
            }
            try
            {
                await using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS \"{name}\"", conn);
                await drop.ExecuteNonQueryAsync(ct);
                dropped.Add(name);
                if (table.Span == PartitionSpan.Day)
                {
                    Forget(start);
                }
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                // Busy: the next pass drops it.
                failed.Add(name);
                LogDropPostponed(logger, name, e.MessageText);
            }
        }
        if (created.Count > 0 || dropped.Count > 0)
        {
            LogMaintained(logger, created.Count, dropped.Count);
        }
        return new PartitionChanges(created, dropped, failed);
    }

    /// <summary>The partitions of the time-series tables that exist now, as (table, partition).</summary>
    internal static async Task<HashSet<(string Table, string Partition)>> ListAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        const string sql = """
            SELECT parent.relname, child.relname
            FROM pg_inherits i
            JOIN pg_class parent ON parent.oid = i.inhparent
            JOIN pg_class child ON child.oid = i.inhrelid
            WHERE parent.relnamespace = current_schema()::regnamespace AND parent.relkind = 'p' AND parent.relname = ANY(@tables)
            """;
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue("tables", Tables.Select(t => t.Name).ToArray());
        var result = new HashSet<(string, string)>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add((reader.GetString(0), reader.GetString(1)));
        }
        return result;
    }

    internal static string PartitionName(PartitionedTable table, DateOnly day) => table.Span == PartitionSpan.Day
        ? $"{table.Name}_p{day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}"
        : $"{table.Name}_p{day.ToString("yyyyMM", CultureInfo.InvariantCulture)}";

    private static DateOnly Start(PartitionedTable table, DateOnly day) =>
        table.Span == PartitionSpan.Day ? day : new DateOnly(day.Year, day.Month, 1);

    private static DateOnly End(PartitionedTable table, DateOnly start) =>
        table.Span == PartitionSpan.Day ? start.AddDays(1) : start.AddMonths(1);

    private static DateOnly? ParseStart(PartitionedTable table, string partition)
    {
        string prefix = table.Name + "_p";
        if (!partition.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }
        string format = table.Span == PartitionSpan.Day ? "yyyyMMdd" : "yyyyMM";
        return DateOnly.TryParseExact(partition[prefix.Length..], format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
    }

    /// <summary>Partitions that end on or before this day hold only data past retention.</summary>
    private DateOnly Cutoff(PartitionedTable table, DateOnly today) => today.AddDays(-(table.Retention switch
    {
        RetentionClass.Raw => _options.RawRetentionDays,
        RetentionClass.MinuteRollup => _options.MinuteRollupRetentionDays,
        _ => _options.HourRollupRetentionDays,
    }));

    private async Task<bool> CreateAsync(NpgsqlConnection conn, PartitionedTable table, DateOnly day, CancellationToken ct)
    {
        var start = Start(table, day);
        string name = PartitionName(table, day);
        string sql = $"""
            CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{table.Name}"
            FOR VALUES FROM ('{Literal(start)}') TO ('{Literal(End(table, start))}')
            """;
        try
        {
            await using var cmd = new NpgsqlCommand(sql, conn);
            await cmd.ExecuteNonQueryAsync(ct);
            return true;
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateTable or PostgresErrorCodes.UniqueViolation)
        {
            // Made at the same moment by another server or task.
            LogCreateRaced(logger, name);
            return false;
        }
    }

    private static string Literal(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + " 00:00:00+00";

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions: {Created} made ahead, {Dropped} past retention dropped")]
    private static partial void LogMaintained(ILogger logger, int created, int dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition} could not be dropped now ({Reason}); the next pass tries again")]
    private static partial void LogDropPostponed(ILogger logger, string partition, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Partition {Partition} was made at the same time elsewhere")]
    private static partial void LogCreateRaced(ILogger logger, string partition);
}
