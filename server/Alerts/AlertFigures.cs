using Fleet.Contracts.V1;
using Fleet.Server.Live;
using Fleet.Server.Storage.Series;
using Fleet.Web.Data;

namespace Fleet.Server.Alerts;

/// <summary>One value a rule is evaluated on: of a host (no service), a service instance, a process or a remote endpoint.</summary>
public readonly record struct AlertSubject(string? Service, int? Pid, string? Remote, double Value);

/// <summary>
/// The values of one snapshot per metric, computed once and only when a rule asks (pure). The figures are the ones
/// storage and the live summaries use (SnapshotFigures, LiveSummaries), so an alert agrees with the pages.
/// </summary>
public sealed class AlertFigures(Snapshot snapshot, string hostName)
{
    private readonly Dictionary<AlertMetric, IReadOnlyList<AlertSubject>> _cache = [];
    private LiveHost? _host;

    /// <summary>The subjects of <paramref name="metric"/> (empty where the host does not have it: no conntrack, no readable service).</summary>
    public IReadOnlyList<AlertSubject> Of(AlertMetric metric)
    {
        if (!_cache.TryGetValue(metric, out var subjects))
        {
            subjects = Compute(metric);
            _cache[metric] = subjects;
        }
        return subjects;
    }

    private List<AlertSubject> Compute(AlertMetric metric) => metric switch
    {
        AlertMetric.ProcessFdPercent =>
            [.. snapshot.Processes.Where(p => p.FdsReadable).Select(p => new AlertSubject(NameOrNull(p.Service), p.Pid, null, SnapshotFigures.SoftLimitPercent(p)))],
        AlertMetric.ServiceFdPercent =>
            [.. ReadableServices().Select(s => new AlertSubject(s.Name, null, null, s.WorstSoftLimitPercent))],
        AlertMetric.ServiceCloseWait =>
            [.. ReadableServices().Select(s => new AlertSubject(s.Name, null, null, s.Tcp?.CloseWait ?? 0))],
        AlertMetric.RemoteCloseWait =>
            [.. ReadableServices().SelectMany(s => s.CloseWaitRemotes.Select(r => new AlertSubject(s.Name, null, LiveSummaries.Endpoint(r.Address, r.Port), r.Count)))],
        AlertMetric.HostFileHandlesPercent => Percent(Host.FileHandlesAllocated, Host.FileHandlesMax),
        AlertMetric.HostEphemeralPortsPercent => Percent(Host.EphemeralPortsInUse, Host.EphemeralPortRange),
        // A host without conntrack (module not loaded) has no such table to fill: never a subject.
        AlertMetric.HostConntrackPercent => snapshot.System is { ConntrackPresent: true } ? Percent(Host.ConntrackCount, Host.ConntrackMax) : [],
        AlertMetric.HostOrphansPercent => Percent(Host.TcpOrphans, Host.TcpMaxOrphans),
        // A snapshot just arrived: the agent is not silent.
        AlertMetric.AgentOffline => [new AlertSubject(null, null, null, 0)],
        // Read from the projections on the evaluator's tick, not from a snapshot.
        _ => [],
    };

    /// <summary>CLOSE_WAIT toward one given remote endpoint, per service: 0 for a service without sockets toward it.</summary>
    public IReadOnlyList<AlertSubject> TowardRemote(string remote) =>
        [.. ReadableServices().Select(s => new AlertSubject(
            s.Name,
            null,
            remote,
            s.CloseWaitRemotes.Where(r => string.Equals(LiveSummaries.Endpoint(r.Address, r.Port), remote, StringComparison.OrdinalIgnoreCase)).Sum(r => (double)r.Count)))];

    // The host figures as the live summaries give them (the port range, among others, is computed there).
    private LiveHost Host => _host ??= LiveSummaries.Summarize(snapshot, hostName, DateTimeOffset.UnixEpoch).Host;

    private IEnumerable<Service> ReadableServices() => snapshot.Services.Where(s => s.ProcessCount > s.UnreadableProcessCount);

    private static List<AlertSubject> Percent(ulong used, ulong max) => max == 0 ? [] : [new AlertSubject(null, null, null, used * 100.0 / max)];

    private static string? NameOrNull(string name) => name.Length == 0 ? null : name;
}
