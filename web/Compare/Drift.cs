using Fleet.Web.Data;

namespace Fleet.Web.Compare;

/// <summary>
/// The fleet's drift from each host's latest snapshot (pure): for every service running on two or more hosts, the
/// settings that differ between those hosts (the same rows as the compare view, <see cref="HostSettings"/>) and the
/// known trouble of its instances (<see cref="KnownTrouble"/>); trouble in a host's own settings is listed once per
/// host, not under every service on it.
/// </summary>
public static class Drift
{
    /// <summary>A host not seen for longer than this is left out: its settings may have changed since.</summary>
    public static readonly TimeSpan MaxSnapshotAge = TimeSpan.FromHours(24);

    /// <param name="hosts">Each host's latest detail; a name given twice (two machines) keeps the one seen last.</param>
    /// <param name="at">When the drift was read.</param>
    public static DriftView Of(IReadOnlyList<HostDetail> hosts, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var leftOut = new List<string>();
        var read = new List<HostDetail>();
        foreach (var group in hosts.GroupBy(h => h.Name, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var latest = group.OrderByDescending(h => h.LastSeen ?? h.CollectedAt).First();
            if (at - (latest.LastSeen ?? latest.CollectedAt) > MaxSnapshotAge)
            {
                leftOut.Add(latest.Name);
            }
            else
            {
                read.Add(latest);
            }
        }

        var services = new List<ServiceDrift>();
        foreach (var service in read.SelectMany(h => h.Services.Select(s => s.Name)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var running = read.Where(h => h.Services.Any(s => string.Equals(s.Name, service, StringComparison.Ordinal))).ToList();
            if (running.Count < 2)
            {
                continue;
            }
            var differences = HostSettings.Rows(running, [service]).Where(r => r.Differs).ToList();
            if (differences.Count == 0)
            {
                continue;
            }
            var findings = running.SelectMany(h => KnownTrouble.ServiceFindings(h, new CompareSubject(h.Name, service).Label, service))
                .OrderBy(f => f.Severity == TroubleSeverity.Critical ? 0 : 1)
                .ToList();
            services.Add(new ServiceDrift(service, [.. running.Select(h => h.Name)], differences, findings));
        }
        var hostFindings = read.SelectMany(h => KnownTrouble.HostFindings(h, h.Name))
            .OrderBy(f => f.Severity == TroubleSeverity.Critical ? 0 : 1)
            .ToList();
        return new DriftView(at, read.Count, services) { LeftOut = leftOut, HostFindings = hostFindings };
    }
}
