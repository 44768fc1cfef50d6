using System.Text.Json;
using Fleet.Server.Snapshots;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Snapshots;

/// <summary>The document's JSON keeps every figure of the views: extremes of ulong, NaN and infinite percentages, durations, projections.</summary>
public sealed class SnapshotJsonTests
{
    private static readonly DateTimeOffset At = new(2030, 3, 15, 11, 59, 58, 123, TimeSpan.FromHours(2));

    [Fact]
    public void Document_OfFullyPopulatedViews_RoundTripsEveryFigure()
    {
        var document = Document();

        byte[] stored = SnapshotJson.Compress(document);
        var back = SnapshotJson.Decompress(stored);

        // Serialised again, the same text: nothing lost or changed on the way.
        Assert.Equal(JsonSerializer.Serialize(document, SnapshotJson.Options), JsonSerializer.Serialize(back, SnapshotJson.Options));
        var host = back.Snapshot.Hosts[0];
        var service = host.Detail.Services[0];
        Assert.Equal(ulong.MaxValue, service.WorstSoftLimit);
        Assert.Equal(ulong.MaxValue, host.Detail.Processes[0].OpenFds);
        Assert.True(double.IsNaN(service.WorstSoftLimitPercent));
        Assert.Equal(double.PositiveInfinity, host.Detail.Processes[0].SoftLimitPercent);
        Assert.Equal(double.NegativeInfinity, back.Snapshot.Alerts[0].Value);
        Assert.Equal(TimeSpan.FromDays(3) + TimeSpan.FromTicks(1234567), service.Projection!.TimeToSoftLimit);
        Assert.Equal([At.AddHours(-5), At.AddHours(-1)], service.Projection.Restarts);
        Assert.Equal(new SocketLeak("[2001:db8::7]:443", 1.5, ulong.MaxValue, 0.75), service.Projection.SocketLeak);
        Assert.Equal(At, host.Detail.CollectedAt);
        Assert.Equal(At.Offset, host.Detail.CollectedAt.Offset);
        Assert.Equal(TimeSpan.FromMilliseconds(10.5), host.Detail.AgentCost.Cpu);
        Assert.Equal(new MetricPoint(At.AddMinutes(1), null), host.Series.OpenFdsByService.Series[0].Points[1]);
        Assert.True(double.IsNaN(host.Series.SoftLimitPercentByService.Series[0].Points[0].Value!.Value));
        Assert.Equal(uint.MaxValue, host.Detail.System.EphemeralPortHigh);
        Assert.Equal(TcpStates(7), host.Detail.UnownedTcp);
        Assert.Equal(new UserInotify(uint.MaxValue, ulong.MaxValue), host.Detail.System.InotifyByUser[0]);
        var instance = back.Snapshot.ServiceView!.Instances[0];
        Assert.Equal(LeakVerdict.Leak, instance.Latest.Projection!.Verdict);
        Assert.Equal(TimeSpan.FromSeconds(15), instance.AgentInterval);
        Assert.Equal(back.Snapshot.Alerts[0] with { Value = 0 }, document.Snapshot.Alerts[0] with { Value = 0 });
        Assert.Equal(new List<string?> { "x", null, "=1+2" }, back.Raw[0].Rows[0].ToList());
    }

    [Fact]
    public void Document_WithAMissingRequiredValue_IsRefusedWithItsPath()
    {
        string json = JsonSerializer.Serialize(Document(), SnapshotJson.Options).Replace("\"machineId\":\"m-1\",", "", StringComparison.Ordinal);

        var e = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<SnapshotDocument>(json, SnapshotJson.Options));

        Assert.Contains("$.snapshot.hosts[0].detail", e.Path, StringComparison.Ordinal);
    }

    private static TcpStateCounts TcpStates(ulong n) => new(n, n + 1, n + 2, n + 3, n + 4, n + 5, n + 6, n + 7, n + 8, n + 9, n + 10, ulong.MaxValue);

    private static ProjectionView Projection(int? pid) => new(
        "h-1", "api", pid, pid is null ? null : "api-1", LeakVerdict.Leak, 12.25, 950.5, 1024, ulong.MaxValue,
        TimeSpan.FromDays(3) + TimeSpan.FromTicks(1234567), null, 0.9, At.AddHours(-1), [At.AddHours(-5), At.AddHours(-1)], TimeSpan.FromHours(4),
        "rises 12 fds/h", new SocketLeak("[2001:db8::7]:443", 1.5, ulong.MaxValue, 0.75), At);

    private static SeriesSet Set(string metric, double? first) => new(metric, TimeSpan.FromMinutes(1), "raw",
        [new MetricSeries("api", [new MetricPoint(At, first), new MetricPoint(At.AddMinutes(1), null), new MetricPoint(At.AddMinutes(2), 1e300)])]);

    internal static SnapshotDocument Document()
    {
        var detail = new HostDetail(
            "h-1", "m-1", "6.1.0", "1.2.3", At, At, ulong.MaxValue, TimeSpan.FromSeconds(15),
            [new ServiceRow("api", "systemd", 3, 1, ulong.MaxValue, 42, 1000, ulong.MaxValue, 0, double.NaN, TcpStates(1)) { Projection = Projection(null) }],
            [new ProcessRow(42, "api-1", "api", "/usr/bin/api --x \"y\"", null, ulong.MaxValue, new FdBreakdown(1, 2, 3, 4, 5, 6, 7, 8, ulong.MaxValue), 0, 0, double.PositiveInfinity, TcpStates(2))],
            300,
            [new CloseWaitRemoteRow("10.0.0.5:5432", "api", 17, -3)],
            TcpStates(7),
            new SystemHeadroom(1, ulong.MaxValue, 3, 32768, uint.MaxValue, 5, null, 0, 7, 8, 9, 60, 2, true, 10, 11, 12, 13, [new UserInotify(uint.MaxValue, ulong.MaxValue)]),
            new AgentCostView(TimeSpan.FromMilliseconds(20.25), TimeSpan.FromMilliseconds(10.5), TimeSpan.MaxValue, ulong.MaxValue, 300, 2, 1, 0, 3, 999, 1),
            [new UnreadableProcess(7, "secret", "(none)")]);
        var series = new HostSeries(Set("close_wait", 1), Set("soft_limit_percent", double.NaN), Set("open_fds", 3), Set("file_handles", 4),
            Set("ephemeral_ports", 5), Set("tcp_orphans", 6), Set("conntrack", double.PositiveInfinity));
        var risk = new InstanceRisk("h-1", "api", At, 3, 1000, 42, 900, 1024, 4096, 87.5, 17) { Projection = Projection(null) };
        var serviceView = new ServiceView("api", [new InstanceRow("h-1", null, TimeSpan.FromSeconds(15), risk)], Set("open_fds", 1), Set("soft_limit_percent", 2), Set("close_wait", 3));
        var alert = new AlertView(9, 1000, "fds", AlertMetric.TimeToExhaustion, AlertSeverity.Critical, AlertState.Resolved, "h-1", "api", 42, "10.0.0.5:5432",
            double.NegativeInfinity, 2, At.AddMinutes(-30), At.AddMinutes(-29), At, At, "summary \"quoted\"\n<script>");
        var info = new SnapshotInfo(5, "t", "n", SnapshotOrigin.Service, ["h-1"], "api", At.AddHours(-1), At, At, "someone", null, 0);
        return new SnapshotDocument(1, new IncidentSnapshot(info, [new HostView(detail, series)], serviceView, [alert]),
            [new RawTable("host_samples", ["a", "b", "c"], [["x", null, "=1+2"]])]);
    }
}
