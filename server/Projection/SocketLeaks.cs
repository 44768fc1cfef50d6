using System.Globalization;
using System.Net;
using Fleet.Server.Dashboard;
using Npgsql;
using NpgsqlTypes;

namespace Fleet.Server.Projection;

/// <summary>
/// Finds, for instances whose fds leak, the remote endpoint toward which CLOSE_WAIT grows with them over the current
/// run: the CLOSE_WAIT sockets of the instance's processes toward each remote, per minute (the mean per snapshot of
/// the instance, a snapshot without a row counting as none), projected like the fds; the remote with the steepest
/// leaking CLOSE_WAIT whose slope explains at least <see cref="MinShareOfFdRise"/> of the fds' slope is named.
/// Only the leaking instances' runs are read, by the (host_id, time) index.
/// </summary>
internal static class SocketLeaks
{
    /// <summary>A remote's CLOSE_WAIT must account for at least this share of the fd rise to be named.</summary>
    public const double MinShareOfFdRise = 0.25;

    private const string CloseWaitSql = """
        WITH k AS (
            SELECT * FROM unnest($1::int[], $2::int[], $3::timestamptz[]) AS k(host_id, service_id, since)
        ), per_time AS (
            SELECT c.host_id, c.service_id, c.remote, c.port, c.time, sum(c.count)::bigint AS n
            FROM close_wait_samples c
            JOIN k ON c.host_id = k.host_id AND c.service_id = k.service_id AND c.time >= k.since
            WHERE c.host_id = ANY ($1) AND c.time >= $4 AND c.time <= $5
            GROUP BY 1, 2, 3, 4, 5
        )
        SELECT host_id, service_id, remote, port, date_bin($6, time, $7), sum(n)::float8, max(time), (array_agg(n ORDER BY time DESC))[1]
        FROM per_time
        GROUP BY 1, 2, 3, 4, 5
        """;

    private static readonly DateTime Origin = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static string Sentence(FoundSocketLeak s) => string.Create(CultureInfo.InvariantCulture,
        $"Socket leak toward {s.Remote}: CLOSE_WAIT toward it grows by {s.SlopePerHour:0.#}/h ({s.CloseWaitNow} now), {s.ShareOfFdRise:P0} of the fd rise.");

    /// <summary>Sets the socket leak of the leaking instances among <paramref name="instances"/> where one is found; returns the rows read.</summary>
    public static async Task<int> FindAsync(
        NpgsqlDataSource dataSource, StoredSeries series, List<SeriesProjection> instances, DateTimeOffset now, ProjectionOptions? options, CancellationToken ct)
    {
        var leaking = instances
            .Select((p, i) => (p, i))
            .Where(x => x.p.Result.Verdict == ProjectionVerdict.Leak && x.p.Result.RunStart is not null && x.p.Result.SlopePerHour > 0)
            .ToList();
        if (leaking.Count == 0)
        {
            return 0;
        }

        var since = leaking.Select(x => x.p.Result.RunStart!.Value.UtcDateTime).ToArray();
        var remotes = new Dictionary<(int HostId, int ServiceId), Dictionary<string, List<(long Start, double Sum, DateTimeOffset Last, long LastCount)>>>();
        int rows = 0;
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
        await using (var cmd = new NpgsqlCommand(CloseWaitSql, conn)
        {
            Parameters =
            {
                new NpgsqlParameter<int[]> { TypedValue = [.. leaking.Select(x => x.p.HostId)] },
                new NpgsqlParameter<int[]> { TypedValue = [.. leaking.Select(x => x.p.ServiceId)] },
                new NpgsqlParameter<DateTime[]> { TypedValue = since, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
                new NpgsqlParameter<DateTime> { TypedValue = since.Min(), NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new NpgsqlParameter<DateTime> { TypedValue = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new NpgsqlParameter<TimeSpan> { TypedValue = StoredSeries.BucketSize, NpgsqlDbType = NpgsqlDbType.Interval },
                new NpgsqlParameter<DateTime> { TypedValue = Origin, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            },
        })
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                rows++;
                var key = (reader.GetInt32(0), reader.GetInt32(1));
                string remote = HostDetails.Remote(reader.GetFieldValue<IPAddress>(2), (uint)reader.GetInt32(3));
                if (!remotes.TryGetValue(key, out var byRemote))
                {
                    byRemote = [];
                    remotes[key] = byRemote;
                }
                if (!byRemote.TryGetValue(remote, out var buckets))
                {
                    buckets = [];
                    byRemote[remote] = buckets;
                }
                buckets.Add((reader.GetFieldValue<DateTime>(4).Ticks, reader.GetDouble(5), reader.GetFieldValue<DateTimeOffset>(6), reader.GetInt64(7)));
            }
        }

        foreach (var (projection, index) in leaking)
        {
            if (!remotes.TryGetValue((projection.HostId, projection.ServiceId), out var byRemote)
                || !series.Instances.TryGetValue(new InstanceKey(projection.HostId, projection.ServiceId), out var fds))
            {
                continue;
            }
            var found = Find(projection, fds, byRemote, options);
            if (found is not null)
            {
                instances[index] = projection with { SocketLeak = found };
            }
        }
        return rows;
    }

    private static FoundSocketLeak? Find(
        SeriesProjection projection, SeriesBuffer fds, Dictionary<string, List<(long Start, double Sum, DateTimeOffset Last, long LastCount)>> byRemote, ProjectionOptions? options)
    {
        var runStart = projection.Result.RunStart!.Value;
        var run = fds.Buckets.Where(b => b.Time >= runStart).ToList();
        var lastSample = fds.Last;
        FoundSocketLeak? best = null;
        foreach (var (remote, buckets) in byRemote)
        {
            var sums = buckets.ToDictionary(b => b.Start);
            // One reading per minute of the run: the mean CLOSE_WAIT per snapshot of the instance in that minute.
            var samples = run
                .Select(b => new FdSample(b.Time, (long)Math.Round(sums.TryGetValue(b.Start, out var s) ? s.Sum / Math.Max(1, b.Samples) : 0)))
                .ToArray();
            var cw = LeakProjector.Project(samples, null, null, projection.ComputedAt, options);
            if (cw.Verdict != ProjectionVerdict.Leak || cw.SlopePerHour <= 0)
            {
                continue;
            }
            double share = Math.Clamp(cw.SlopePerHour / projection.Result.SlopePerHour, 0, 1);
            if (share < MinShareOfFdRise || (best is not null && best.SlopePerHour >= cw.SlopePerHour))
            {
                continue;
            }
            var newest = buckets.MaxBy(b => b.Last);
            long now = newest.Last == lastSample ? newest.LastCount : 0;
            best = new FoundSocketLeak(remote, cw.SlopePerHour, now, share);
        }
        return best;
    }
}
