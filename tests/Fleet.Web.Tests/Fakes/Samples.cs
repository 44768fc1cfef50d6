using Fleet.Web.Data;

namespace Fleet.Web.Tests.Fakes;

/// <summary>Builders of the records the pages read, with plausible figures a test overrides with `with`.</summary>
public static class Samples
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    public static HostRow HostRow(string name, DateTimeOffset? lastSeen, ulong closeWait = 0) =>
        new(name, "mid-" + name, lastSeen, "1.0.0", "api", 42.5, 575, 1200, closeWait, 3000, 100_000, 120, 28_232, 50, 65_536, 80, 0);

    public static InstanceRisk Risk(string host, string service, DateTimeOffset at, double percent = 90) =>
        new(host, service, at, 2, 950, 4242, 920, 1024, 4096, percent, 3);

    public static ServiceRow ServiceRow(string name, ulong closeWait) =>
        new(name, "systemd", 2, 0, 500, 1234, 400, 1024, 4096, 39.1, TcpStateCounts.Zero with { CloseWait = closeWait, Established = 10 });

    public static HostDetail HostDetail(string name, DateTimeOffset collectedAt, ulong sequence, params ServiceRow[] services) =>
        new(name, "mid-" + name, "6.1.0-test", "1.0.0", collectedAt, collectedAt, sequence, Interval,
            services,
            [new ProcessRow(1234, "api", services.Length > 0 ? services[0].Name : "api", "/usr/bin/api --serve", collectedAt.AddHours(-3), 400,
                new FdBreakdown(10, 2, 4, 300, 1, 20, 3, 50, 10), 1024, 4096, 39.1, TcpStateCounts.Zero with { Established = 10, CloseWait = 2 })],
            57,
            [new CloseWaitRemoteRow("10.0.0.9:5432", services.Length > 0 ? services[0].Name : "api", 2, 1)],
            TcpStateCounts.Zero,
            new SystemHeadroom(3000, 100_000, 1_048_576, 32768, 60999, 120, "10.0.0.9:5432", 80, 3, 65_536, 40, 60, 2, true, 50, 65_536, 128, 8192,
                [new UserInotify(1000, 12)]),
            new AgentCostView(TimeSpan.FromMilliseconds(35), TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40), 9_000_000, 57, 1, 0, 0, 0, 4000, 1),
            [new UnreadableProcess(1, "systemd", "init")]);

    public static SeriesSet Series(string metric, params MetricSeries[] series) => new(metric, TimeSpan.Zero, "raw", series);

    public static MetricSeries Line(string name, params (DateTimeOffset Time, double? Value)[] points) =>
        new(name, [.. points.Select(p => new MetricPoint(p.Time, p.Value))]);

    public static HostView HostView(HostDetail detail, SeriesSet closeWait, SeriesSet? softPercent = null)
    {
        var empty = Series("empty");
        return new HostView(detail, new HostSeries(closeWait, softPercent ?? empty, empty, empty, empty, empty, empty));
    }

    public static LiveSnapshot Live(string host, ulong sequence, DateTimeOffset at, ulong hostCloseWait, params LiveService[] services) =>
        new(new LiveHost(host, "mid-" + host, sequence, at, at, "1.0.1", 60, 0, 1300, hostCloseWait, services.FirstOrDefault()?.Name,
                services.Length > 0 ? services.Max(s => s.WorstSoftLimitPercent) : 0, 100, 3100, 100_000, 130, 28_232, 4, 65_536, 60, 65_536),
            services);

    public static LiveService LiveService(string name, ulong closeWait, double percent = 45) =>
        new(name, 2, 510, 1234, 460, 1024, 4096, percent, closeWait, 11, [new LiveRemote("10.0.0.9:5432", closeWait)]);
}
