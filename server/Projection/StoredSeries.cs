using System.Net;
using Fleet.Server.Dashboard;
using Npgsql;
using NpgsqlTypes;

namespace Fleet.Server.Projection;

/// <summary>One minute of a series: the mean of its readings (for CLOSE_WAIT: their sum) at the middle of its first and last reading, the number of readings, the last reading's time and value.</summary>
internal readonly record struct SeriesBucket(long Start, DateTimeOffset Time, double Fds, int Samples, DateTimeOffset Last, double LastValue = 0);

/// <summary>A service instance: (host, service instance id).</summary>
internal readonly record struct InstanceKey(int HostId, int ServiceId);

/// <summary>One process's life: a pid with one start time (a restart gives a new key).</summary>
internal readonly record struct ProcessKey(int HostId, int ServiceId, string Comm, int Pid, long StartTicks);

/// <summary>The CLOSE_WAIT sockets of one instance's processes toward one remote endpoint ("address:port").</summary>
internal readonly record struct CloseWaitKey(int HostId, int ServiceId, string Remote);

/// <summary>A series' minute buckets, oldest first, and the limits of its newest bucket (-1 unlimited, as stored).</summary>
internal sealed class SeriesBuffer
{
    public List<SeriesBucket> Buckets { get; } = [];

    public int Soft { get; set; }

    public int Hard { get; set; }

    public DateTimeOffset Last => Buckets[^1].Last;
}

/// <summary>
/// The stored series the projection job reads, kept in memory between passes as minute buckets aggregated in the
/// database (date_bin over the raw samples), so that a pass reads only the minutes since the previous one (plus an
/// <see cref="Overlap"/> for rows stored late) instead of the whole lookback; the whole lookback is read again on the
/// first pass and every <see cref="FullReadEvery"/> (which also picks up snapshots an agent replayed from its spool
/// long after), in <see cref="FullReadChunk"/> slices so that no statement runs long. The reads are plain SELECTs (no
/// locks beyond what any reader takes; ingest's COPY is not blocked) that go through the (service_id, time) and
/// (host_id, time) indexes for the instances and hosts seen since the read's start. Besides the fds of instances and
/// processes it keeps the CLOSE_WAIT sockets per instance and remote endpoint (for <see cref="SocketLeaks"/>).
/// </summary>
internal sealed class StoredSeries
{
    public static readonly TimeSpan BucketSize = TimeSpan.FromMinutes(1);

    /// <summary>Minutes read again every pass: rows of snapshots stored late (agent spool, batching).</summary>
    public static readonly TimeSpan Overlap = TimeSpan.FromMinutes(10);

    public static readonly TimeSpan FullReadEvery = TimeSpan.FromHours(6);

    public static readonly TimeSpan FullReadChunk = TimeSpan.FromHours(2);

    public static readonly TimeSpan ReadTimeout = TimeSpan.FromMinutes(5);

    private static readonly DateTime Origin = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    // Instances of services seen since the read's start (last_seen lags by at most 5 minutes: 1 hour of margin),
    // their rows by the (service_id, time) index; one row per instance and minute.
    private const string InstancesSql = """
        SELECT s.host_id, s.service_id, date_bin($1, s.time, $2), min(s.time) + (max(s.time) - min(s.time)) / 2, max(s.time),
            avg(s.worst_open_fds)::float8, count(*)::int, max(s.worst_nofile_soft), max(s.worst_nofile_hard)
        FROM service_samples s
        WHERE s.service_id = ANY (ARRAY(SELECT id FROM services WHERE last_seen >= $3 - interval '1 hour'))
            AND s.time >= $3 AND s.time < $4
        GROUP BY 1, 2, 3
        """;

    // The processes that matter (process_samples holds only those) of hosts heard from since the read's start, by the
    // (host_id, time) index; one row per process life (pid, start) and minute.
    private const string ProcessesSql = """
        SELECT p.host_id, p.service_id, p.comm, p.pid, p.start_ticks, date_bin($1, p.time, $2), min(p.time) + (max(p.time) - min(p.time)) / 2, max(p.time),
            avg(p.open_fds)::float8, count(*)::int, max(p.nofile_soft), max(p.nofile_hard)
        FROM process_samples p
        WHERE p.host_id = ANY (ARRAY(SELECT id FROM hosts WHERE last_seen >= $3 - interval '1 hour'))
            AND p.time >= $3 AND p.time < $4
        GROUP BY 1, 2, 3, 4, 5, 6
        """;

    // CLOSE_WAIT per instance, remote and minute: the sum over the minute's readings (of all the instance's processes),
    // the number of readings with any, and the count at the last one.
    private const string CloseWaitSql = """
        WITH per_time AS (
            SELECT c.host_id, c.service_id, c.remote, c.port, c.time, sum(c.count)::bigint AS n
            FROM close_wait_samples c
            WHERE c.host_id = ANY (ARRAY(SELECT id FROM hosts WHERE last_seen >= $3 - interval '1 hour'))
                AND c.time >= $3 AND c.time < $4
            GROUP BY 1, 2, 3, 4, 5
        )
        SELECT host_id, service_id, remote, port, date_bin($1, time, $2), min(time) + (max(time) - min(time)) / 2, max(time),
            sum(n)::float8, count(*)::int, (array_agg(n ORDER BY time DESC))[1]
        FROM per_time
        GROUP BY 1, 2, 3, 4, 5
        """;

    private DateTimeOffset? _loadedThrough;
    private DateTimeOffset _lastFull;

    public Dictionary<InstanceKey, SeriesBuffer> Instances { get; } = [];

    public Dictionary<ProcessKey, SeriesBuffer> Processes { get; } = [];

    public Dictionary<CloseWaitKey, SeriesBuffer> CloseWait { get; } = [];

    /// <summary>Brings the buckets up to <paramref name="now"/> and drops those older than the lookback; returns (rows read, whether the whole lookback was read).</summary>
    public async Task<(int Rows, bool Full)> RefreshAsync(NpgsqlDataSource dataSource, DateTimeOffset now, TimeSpan lookback, CancellationToken ct)
    {
        bool full = _loadedThrough is not { } through || now - _lastFull >= FullReadEvery || now < through;
        var from = Floor(full ? now - lookback : _loadedThrough!.Value - Overlap);
        var instances = new Dictionary<InstanceKey, List<(SeriesBucket Bucket, int Soft, int Hard)>>();
        var processes = new Dictionary<ProcessKey, List<(SeriesBucket Bucket, int Soft, int Hard)>>();
        var closeWait = new Dictionary<CloseWaitKey, List<(SeriesBucket Bucket, int Soft, int Hard)>>();
        int rows = 0;
        var end = now.AddTicks(TimeSpan.TicksPerMicrosecond); // inclusive of now (PostgreSQL keeps microseconds)
        for (var sliceFrom = from; sliceFrom < end; sliceFrom += FullReadChunk)
        {
            var sliceTo = sliceFrom + FullReadChunk < end ? sliceFrom + FullReadChunk : end;
            rows += await ReadAsync(dataSource, sliceFrom, sliceTo, instances, processes, closeWait, ct);
        }

        if (full)
        {
            Instances.Clear();
            Processes.Clear();
            CloseWait.Clear();
        }
        Merge(Instances, instances, from, now - lookback);
        Merge(Processes, processes, from, now - lookback);
        Merge(CloseWait, closeWait, from, now - lookback);
        _loadedThrough = now;
        if (full)
        {
            _lastFull = now;
        }
        return (rows, full);
    }

    private static async Task<int> ReadAsync(
        NpgsqlDataSource dataSource,
        DateTimeOffset from,
        DateTimeOffset to,
        Dictionary<InstanceKey, List<(SeriesBucket Bucket, int Soft, int Hard)>> instances,
        Dictionary<ProcessKey, List<(SeriesBucket Bucket, int Soft, int Hard)>> processes,
        Dictionary<CloseWaitKey, List<(SeriesBucket Bucket, int Soft, int Hard)>> closeWait,
        CancellationToken ct)
    {
        int rows = 0;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(conn)
        {
            Timeout = (int)ReadTimeout.TotalSeconds,
            BatchCommands =
            {
                Command(InstancesSql, from, to),
                Command(ProcessesSql, from, to),
                Command(CloseWaitSql, from, to),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows++;
            var key = new InstanceKey(reader.GetInt32(0), reader.GetInt32(1));
            var bucket = new SeriesBucket(
                reader.GetFieldValue<DateTime>(2).Ticks, reader.GetFieldValue<DateTimeOffset>(3), reader.GetDouble(5), reader.GetInt32(6), reader.GetFieldValue<DateTimeOffset>(4));
            Add(instances, key, (bucket, reader.GetInt32(7), reader.GetInt32(8)));
        }
        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows++;
            var key = new ProcessKey(reader.GetInt32(0), reader.GetInt32(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt64(4));
            var bucket = new SeriesBucket(
                reader.GetFieldValue<DateTime>(5).Ticks, reader.GetFieldValue<DateTimeOffset>(6), reader.GetDouble(8), reader.GetInt32(9), reader.GetFieldValue<DateTimeOffset>(7));
            Add(processes, key, (bucket, reader.GetInt32(10), reader.GetInt32(11)));
        }
        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows++;
            var key = new CloseWaitKey(reader.GetInt32(0), reader.GetInt32(1), HostDetails.Remote(reader.GetFieldValue<IPAddress>(2), (uint)reader.GetInt32(3)));
            var bucket = new SeriesBucket(
                reader.GetFieldValue<DateTime>(4).Ticks, reader.GetFieldValue<DateTimeOffset>(5), reader.GetDouble(7), reader.GetInt32(8), reader.GetFieldValue<DateTimeOffset>(6), reader.GetInt64(9));
            Add(closeWait, key, (bucket, 0, 0));
        }
        return rows;
    }

    private static void Add<TKey>(Dictionary<TKey, List<(SeriesBucket, int, int)>> fresh, TKey key, (SeriesBucket, int, int) row)
        where TKey : notnull
    {
        if (!fresh.TryGetValue(key, out var list))
        {
            list = [];
            fresh[key] = list;
        }
        list.Add(row);
    }

    /// <summary>Replaces every bucket from <paramref name="from"/> on with the fresh ones and drops buckets whose last reading is before <paramref name="oldest"/>.</summary>
    private static void Merge<TKey>(Dictionary<TKey, SeriesBuffer> series, Dictionary<TKey, List<(SeriesBucket Bucket, int Soft, int Hard)>> fresh, DateTimeOffset from, DateTimeOffset oldest)
        where TKey : notnull
    {
        long fromTicks = from.UtcTicks;
        foreach (var buffer in series.Values)
        {
            int keep = buffer.Buckets.FindIndex(b => b.Start >= fromTicks);
            if (keep >= 0)
            {
                buffer.Buckets.RemoveRange(keep, buffer.Buckets.Count - keep);
            }
        }
        foreach (var (key, rows) in fresh)
        {
            if (!series.TryGetValue(key, out var buffer))
            {
                buffer = new SeriesBuffer();
                series[key] = buffer;
            }
            rows.Sort((a, b) => a.Bucket.Start.CompareTo(b.Bucket.Start));
            buffer.Buckets.AddRange(rows.Select(r => r.Bucket));
            buffer.Soft = rows[^1].Soft;
            buffer.Hard = rows[^1].Hard;
        }
        var empty = new List<TKey>();
        foreach (var (key, buffer) in series)
        {
            int old = buffer.Buckets.FindIndex(b => b.Last >= oldest);
            if (old < 0)
            {
                empty.Add(key);
            }
            else if (old > 0)
            {
                buffer.Buckets.RemoveRange(0, old);
            }
        }
        foreach (var key in empty)
        {
            series.Remove(key);
        }
    }

    private static DateTimeOffset Floor(DateTimeOffset t) =>
        new(Origin.Ticks + (t.UtcTicks - Origin.Ticks) / BucketSize.Ticks * BucketSize.Ticks, TimeSpan.Zero);

    private static NpgsqlBatchCommand Command(string sql, DateTimeOffset from, DateTimeOffset to) => new(sql)
    {
        Parameters =
        {
            new NpgsqlParameter<TimeSpan> { TypedValue = BucketSize, NpgsqlDbType = NpgsqlDbType.Interval },
            new NpgsqlParameter<DateTime> { TypedValue = Origin, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            new NpgsqlParameter<DateTime> { TypedValue = from.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            new NpgsqlParameter<DateTime> { TypedValue = to.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
        },
    };
}
