using System.Globalization;
using Fleet.Web.Data;

namespace Fleet.Server.Projection;

/// <summary>
/// Finds, for instances whose fds leak, the remote endpoint toward which CLOSE_WAIT grows with them over the current
/// run: the CLOSE_WAIT sockets of the instance's processes toward each remote, per minute (the mean per snapshot of
/// the instance, a snapshot without a row counting as none), projected like the fds; the remote with the steepest
/// leaking CLOSE_WAIT whose slope explains at least <see cref="MinShareOfFdRise"/> of the fds' slope is named. Pure:
/// the CLOSE_WAIT series come with the stored series (<see cref="StoredSeries.CloseWait"/>).
/// </summary>
internal static class SocketLeaks
{
    /// <summary>A remote's CLOSE_WAIT must account for at least this share of the fd rise to be named.</summary>
    public const double MinShareOfFdRise = 0.25;

    public static string Sentence(FoundSocketLeak s) => string.Create(CultureInfo.InvariantCulture,
        $"Socket leak toward {s.Remote}: CLOSE_WAIT toward it grows by {s.SlopePerHour:0.#}/h ({s.CloseWaitNow} now), {s.ShareOfFdRise * 100:0}% of the fd rise.");

    /// <summary>Sets the socket leak of the leaking instances among <paramref name="instances"/> where one is found; returns how many.</summary>
    public static int Find(StoredSeries series, List<SeriesProjection> instances, ProjectionOptions? options)
    {
        var leaking = instances
            .Select((p, i) => (p, i))
            .Where(x => x.p.Result.Verdict == LeakVerdict.Leak && x.p.Result.RunStart is not null && x.p.Result.SlopePerHour > 0)
            .ToDictionary(x => (x.p.HostId, x.p.ServiceId), x => x.i);
        if (leaking.Count == 0)
        {
            return 0;
        }
        var remotes = series.CloseWait
            .Where(c => leaking.ContainsKey((c.Key.HostId, c.Key.ServiceId)))
            .GroupBy(c => (c.Key.HostId, c.Key.ServiceId));
        int found = 0;
        foreach (var byRemote in remotes)
        {
            int index = leaking[byRemote.Key];
            var projection = instances[index];
            if (series.Instances.TryGetValue(new InstanceKey(byRemote.Key.HostId, byRemote.Key.ServiceId), out var fds)
                && Find(projection, fds, byRemote, options) is { } leak)
            {
                instances[index] = projection with { SocketLeak = leak };
                found++;
            }
        }
        return found;
    }

    private static FoundSocketLeak? Find(SeriesProjection projection, SeriesBuffer fds, IEnumerable<KeyValuePair<CloseWaitKey, SeriesBuffer>> byRemote, ProjectionOptions? options)
    {
        var runStart = projection.Result.RunStart!.Value;
        var run = fds.Buckets.Where(b => b.Time >= runStart).ToList();
        FoundSocketLeak? best = null;
        foreach (var (key, closeWait) in byRemote)
        {
            var sums = closeWait.Buckets.ToDictionary(b => b.Start);
            // One reading per minute of the run: the mean CLOSE_WAIT per snapshot of the instance in that minute.
            var samples = run
                .Select(b => new FdSample(b.Time, (long)Math.Round(sums.TryGetValue(b.Start, out var s) ? s.Fds / Math.Max(1, b.Samples) : 0)))
                .ToArray();
            var cw = LeakProjector.Project(samples, null, null, projection.ComputedAt, options);
            if (cw.Verdict != LeakVerdict.Leak || cw.SlopePerHour <= 0)
            {
                continue;
            }
            double share = Math.Clamp(cw.SlopePerHour / projection.Result.SlopePerHour, 0, 1);
            if (share < MinShareOfFdRise || (best is not null && best.SlopePerHour >= cw.SlopePerHour))
            {
                continue;
            }
            var newest = closeWait.Buckets[^1];
            long now = newest.Last == fds.Last ? (long)newest.LastValue : 0;
            best = new FoundSocketLeak(key.Remote, cw.SlopePerHour, now, share);
        }
        return best;
    }
}
