using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;

namespace Fleet.Web.Tests.Snapshots;

/// <summary>Incident snapshots built from the dashboard samples, with figures unlike the live samples' (so a page shows which it read).</summary>
public static class SnapshotSamples
{
    public static readonly DateTimeOffset From = new(2026, 11, 20, 13, 2, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset To = From.AddHours(1);

    /// <summary>A frozen host: its one process holds <paramref name="processFds"/> fds.</summary>
    public static HostView Host(string name, ulong processFds)
    {
        var detail = Samples.HostDetail(name, To.AddSeconds(-5), 77, Samples.ServiceRow("api", 9));
        detail = detail with { Processes = [detail.Processes[0] with { OpenFds = processFds }] };
        return Samples.HostView(detail, Samples.Series("close_wait", Samples.Line("api", (From.AddMinutes(10), 3), (To.AddMinutes(-1), 9))));
    }

    public static ServiceView Service(string name, params string[] hosts) =>
        new(name,
            [.. hosts.Select(h => new InstanceRow(h, To.AddSeconds(-5), Samples.Interval, Samples.Risk(h, name, To.AddSeconds(-5))))],
            Samples.Series("open_fds", [.. hosts.Select(h => Samples.Line(h, (From.AddMinutes(5), 800)))]),
            Samples.Series("soft_pct", [.. hosts.Select(h => Samples.Line(h, (From.AddMinutes(5), 80)))]),
            Samples.Series("close_wait", [.. hosts.Select(h => Samples.Line(h, (From.AddMinutes(5), 4)))]));

    public static AlertView Alert(long id, string host, string rule, AlertState state = AlertState.Resolved) =>
        new(id, 1, rule, AlertMetric.ServiceFdPercent, AlertSeverity.Critical, state, host, "api", null, null, 93.5, 90,
            From.AddMinutes(20), From.AddMinutes(21), state == AlertState.Resolved ? From.AddMinutes(40) : null, From.AddMinutes(40), $"{rule} on {host}");

    public static IncidentSnapshot Snapshot(long id, string title, IReadOnlyList<HostView> hosts, ServiceView? service = null, params AlertView[] alerts)
    {
        var names = hosts.Select(h => h.Detail.Name).ToList();
        var origin = service is not null ? SnapshotOrigin.Service : names.Count > 1 ? SnapshotOrigin.Compare : SnapshotOrigin.Host;
        var info = new SnapshotInfo(id, title, "the api leaked sockets\nticket OPS-12", origin, names, service?.Name, From, To,
            To.AddMinutes(3), "alice", null, 40_960);
        return new IncidentSnapshot(info, hosts, service, alerts);
    }
}
