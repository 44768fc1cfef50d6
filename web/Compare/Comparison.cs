using Fleet.Web.Data;

namespace Fleet.Web.Compare;

/// <summary>
/// Builds a <see cref="CompareView"/> from host views read for one window (pure): per-host totals (or one service's
/// instance lines) on the hosts' common grid, the settings table with differences marked, and known trouble.
/// </summary>
/// <remarks>
/// Lines are aligned by time, not by index: the server gives every host the same grid for one window, and a grid
/// time a host has no point for is a gap in its line. Host headroom is in percent of the host's latest limit (the
/// series hold counts; the limits come with the latest snapshot).
/// </remarks>
public static class Comparison
{
    /// <param name="hosts">The hosts' views for <paramref name="window"/>, in the order the user chose them.</param>
    /// <param name="service">Null to compare hosts; a service name to compare its instances on those hosts.</param>
    /// <param name="window">The window the views were read for.</param>
    /// <param name="missingHosts">Hosts asked for that sent no snapshot (shown as such).</param>
    public static CompareView Of(IReadOnlyList<HostView> hosts, string? service, TimeWindow window, IReadOnlyList<string> missingHosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(missingHosts);
        service = string.IsNullOrWhiteSpace(service) ? null : service;

        var missing = new List<string>(missingHosts);
        var shown = new List<HostView>();
        foreach (var h in hosts)
        {
            if (service is null || h.Detail.Services.Any(s => string.Equals(s.Name, service, StringComparison.Ordinal)))
            {
                shown.Add(h);
            }
            else
            {
                missing.Add(h.Detail.Name);
            }
        }
        var subjects = shown.Select(h => new CompareSubject(h.Detail.Name, service)).ToList();

        var grid = shown
            .SelectMany(h => AllSets(h.Series))
            .SelectMany(set => set.Series)
            .SelectMany(line => line.Points)
            .Select(p => p.Time)
            .Distinct()
            .Order()
            .ToList();

        Func<MetricSeries, bool> ofService = service is null ? _ => true : line => string.Equals(line.Name, service, StringComparison.Ordinal);
        SeriesSet Set(string metric, Func<HostSeries, SeriesSet> pick, Func<HostView, MetricSeries, bool> include, Func<HostView, IReadOnlyList<double>, double?> combine)
        {
            var template = shown.Select(h => pick(h.Series)).FirstOrDefault();
            var lines = new List<MetricSeries>(shown.Count);
            for (int i = 0; i < shown.Count; i++)
            {
                var h = shown[i];
                var byTime = new Dictionary<DateTimeOffset, List<double>>();
                foreach (var line in pick(h.Series).Series.Where(l => include(h, l)))
                {
                    foreach (var p in line.Points)
                    {
                        if (p.Value is { } v && double.IsFinite(v))
                        {
                            if (!byTime.TryGetValue(p.Time, out var values))
                            {
                                byTime[p.Time] = values = [];
                            }
                            values.Add(v);
                        }
                    }
                }
                lines.Add(new MetricSeries(subjects[i].Label,
                    [.. grid.Select(t => new MetricPoint(t, byTime.TryGetValue(t, out var values) ? combine(h, values) : null))]));
            }
            return new SeriesSet(metric, template?.Step ?? TimeSpan.Zero, template?.Source ?? "raw", lines);
        }

        static double? Sum(HostView _, IReadOnlyList<double> values) => values.Sum();
        static double? Max(HostView _, IReadOnlyList<double> values) => values.Max();
        static Func<HostView, IReadOnlyList<double>, double?> PercentOf(Func<SystemHeadroom, ulong> limit) =>
            (h, values) => limit(h.Detail.System) is var max and > 0 ? 100.0 * values.Sum() / max : null;

        var series = new CompareSeries(
            OpenFds: Set("open_fds", s => s.OpenFdsByService, (_, l) => ofService(l), Sum),
            SoftLimitPercent: Set("soft_limit_percent", s => s.SoftLimitPercentByService, (_, l) => ofService(l), Max),
            // Host mode counts the sockets no process owns too: the host's CLOSE_WAIT is its services' plus those.
            CloseWait: Set("close_wait", s => s.CloseWaitByService, (_, l) => ofService(l), Sum),
            FileHandlesPercent: Set("file_handles_percent", s => s.FileHandles, (_, _) => true, PercentOf(s => s.FileHandlesMax)),
            EphemeralPortsPercent: Set("ephemeral_ports_percent", s => s.EphemeralPorts, (_, _) => true, PercentOf(s => s.EphemeralPortRange)),
            ConntrackPercent: Set("conntrack_percent", s => s.Conntrack, (h, _) => h.Detail.System.ConntrackPresent, PercentOf(s => s.ConntrackMax)),
            OrphansPercent: Set("orphans_percent", s => s.TcpOrphans, (_, _) => true, PercentOf(s => s.TcpMaxOrphans)));

        var details = shown.Select(h => h.Detail).ToList();
        IReadOnlyList<string> services = service is not null
            ? [service]
            : [.. details.SelectMany(d => d.Services.Select(s => s.Name)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        var settings = HostSettings.Rows(details, services);

        var findings = shown
            .SelectMany((h, i) => KnownTrouble.Find(h.Detail, subjects[i].Label, service))
            .OrderBy(f => f.Severity == TroubleSeverity.Critical ? 0 : 1)
            .ToList();

        return new CompareView(window, service, subjects, series, settings, findings, missing.Distinct(StringComparer.Ordinal).ToList());
    }

    private static IEnumerable<SeriesSet> AllSets(HostSeries s) =>
        [s.CloseWaitByService, s.SoftLimitPercentByService, s.OpenFdsByService, s.FileHandles, s.EphemeralPorts, s.TcpOrphans, s.Conntrack];
}
