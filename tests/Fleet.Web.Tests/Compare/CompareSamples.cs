using Fleet.Web.Data;

namespace Fleet.Web.Tests.Compare;

/// <summary>Host views made for comparisons: a service's limits and load, the host's kernel settings, and series on a grid.</summary>
public static class CompareSamples
{
    public static readonly DateTimeOffset Start = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    public static readonly TimeSpan Step = TimeSpan.FromMinutes(1);

    public static TimeWindow Window { get; } = new(Start, Start + 10 * Step, false, "custom");

    /// <summary>A service with one process: its soft and hard nofile, its open fds, its TCP sockets (established).</summary>
    public static (ServiceRow Row, ProcessRow Process) Service(string name, ulong soft, ulong hard, ulong fds, ulong tcp = 10, int pid = 100)
    {
        var tcpStates = TcpStateCounts.Zero with { Established = tcp };
        double percent = soft == 0 ? 0 : 100.0 * fds / soft;
        var row = new ServiceRow(name, "systemd", 1, 0, fds, pid, fds, soft, hard, percent, tcpStates);
        var process = new ProcessRow(pid, name, name, "/usr/bin/" + name, Start, fds, new FdBreakdown(0, 0, 0, tcp, 0, 0, 0, 0, fds - Math.Min(fds, tcp)),
            soft, hard, percent, tcpStates);
        return (row, process);
    }

    /// <summary>Kernel settings of a healthy default host: 32768–60999, conntrack 262144, nothing near a limit.</summary>
    public static SystemHeadroom Kernel() => new(
        FileHandlesAllocated: 5_000, FileHandlesMax: 9_223_372_036_854_775_807, NrOpen: 1_048_576,
        EphemeralPortLow: 32768, EphemeralPortHigh: 60999, EphemeralPortsInUse: 100, TopEphemeralRemote: null, TopEphemeralCount: 0,
        TcpOrphans: 0, TcpMaxOrphans: 65_536, TcpTimeWait: 20, TcpFinTimeoutSeconds: 60, TcpTwReuse: 2,
        ConntrackPresent: true, ConntrackCount: 500, ConntrackMax: 262_144,
        InotifyMaxUserInstances: 128, InotifyMaxUserWatches: 65_536, InotifyByUser: [new UserInotify(1000, 4)]);

    public static HostDetail Detail(string name, SystemHeadroom system, params (ServiceRow Row, ProcessRow Process)[] services) =>
        new(name, "mid-" + name, "6.1.0-28-amd64", "1.2.0", Start + 10 * Step, Start + 10 * Step, 42, TimeSpan.FromSeconds(10),
            [.. services.Select(s => s.Row)], [.. services.Select(s => s.Process)], services.Length,
            [], TcpStateCounts.Zero, system,
            new AgentCostView(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0, 0, 0, 0, 0, 0, 0, 1), []);

    /// <summary>A line on the grid from <see cref="Start"/>, one point a step; a null is a gap.</summary>
    public static MetricSeries Line(string name, params double?[] values) =>
        new(name, [.. values.Select((v, i) => new MetricPoint(Start + i * Step, v))]);

    public static SeriesSet Set(string metric, params MetricSeries[] lines) => new(metric, Step, "raw", lines);

    public static HostView View(HostDetail detail, HostSeries? series = null) =>
        new(detail, series ?? Empty);

    public static HostSeries Empty { get; } = new(Set("close_wait"), Set("soft_limit_percent"), Set("open_fds"),
        Set("file_handles"), Set("ephemeral_ports"), Set("tcp_orphans"), Set("conntrack"));
}
