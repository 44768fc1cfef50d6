using Fleet.Web.Components.Pages;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;

namespace Fleet.Web.Tests.Alerts;

public sealed class FiringAlertsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static FakeDashboardData TwoHosts(DateTimeOffset now)
    {
        var data = new FakeDashboardData
        {
            Overview = new FleetOverview([Samples.HostRow("web-1", now), Samples.HostRow("web-2", now)], [], Samples.Interval),
        };
        data.Hosts["web-1"] = Samples.HostView(Samples.HostDetail("web-1", now.AddSeconds(-10), 5, Samples.ServiceRow("api", 4)), Samples.Series("close_wait"));
        return data;
    }

    [Fact]
    public async Task Overview_ShowsTheFiringAlerts_NotThePendingOnes_LinkingToTheAlertsPage()
    {
        var now = DateTimeOffset.UtcNow;
        var alerts = new FakeAlertData
        {
            Active =
            [
                ProjectionSamples.Alert(1, "fds high", "web-1", AlertState.Firing, AlertSeverity.Warning, now),
                ProjectionSamples.Alert(2, "fds critical", "web-2", AlertState.Firing, AlertSeverity.Critical, now),
                ProjectionSamples.Alert(3, "close-wait", "web-2", AlertState.Pending, AlertSeverity.Warning, now),
            ],
        };
        await using var ctx = DashboardContext.Create(TwoHosts(now), new FakeLiveFeed(), alerts: alerts);
        var cut = ctx.Render<Overview>();

        cut.WaitForAssertion(() =>
        {
            var rows = cut.FindAll("[data-testid=firing-alerts] [data-testid=firing-alert]");
            // Critical first.
            Assert.Equal(["fds critical", "fds high"], rows.Select(r => r.GetAttribute("data-rule")));
            Assert.Equal(["critical", "warning"], rows.Select(r => r.GetAttribute("data-severity")));
            Assert.Equal(["web-2", "web-1"], rows.Select(r => r.GetAttribute("data-host")));
            Assert.All(rows, r => Assert.Equal("/alerts", r.GetAttribute("href")));
            Assert.Contains("1 pending", cut.Find("[data-testid=firing-alerts]").TextContent, StringComparison.Ordinal);
        }, Wait);
        Assert.Contains(null, alerts.ActiveHosts);
    }

    [Fact]
    public async Task Overview_MarksASilencedFiringAlert_WithUntilWhenAndByWhom()
    {
        var now = DateTimeOffset.UtcNow;
        var silence = new AlertSilence(7, 1, "fds high", "web-*", null, null, now.AddMinutes(-5), now.AddHours(2), "deploy", "ana", now.AddMinutes(-5), null, null);
        var alerts = new FakeAlertData
        {
            Active =
            [
                ProjectionSamples.Alert(1, "fds high", "web-1", AlertState.Firing, AlertSeverity.Warning, now) with { Silence = silence },
                ProjectionSamples.Alert(2, "fds critical", "web-2", AlertState.Firing, AlertSeverity.Critical, now),
            ],
        };
        await using var ctx = DashboardContext.Create(TwoHosts(now), new FakeLiveFeed(), alerts: alerts);
        var cut = ctx.Render<Overview>();

        cut.WaitForAssertion(() =>
        {
            var rows = cut.FindAll("[data-testid=firing-alerts] [data-testid=firing-alert]");
            Assert.Equal(["false", "true"], rows.Select(r => r.GetAttribute("data-silenced")));
            var mark = Assert.Single(cut.FindAll("[data-testid=firing-silenced]"));
            Assert.Contains("by ana", mark.TextContent, StringComparison.Ordinal);
            Assert.Contains(Fleet.Web.Display.Figures.Timestamp(silence.Until), mark.TextContent, StringComparison.Ordinal);
        }, Wait);
    }

    [Fact]
    public async Task Overview_InAStorm_ShowsTheMostSevereFirst_AndCountsTheRest()
    {
        var now = DateTimeOffset.UtcNow;
        var silent = Enumerable.Range(1, 20)
            .Select(i => ProjectionSamples.Alert(100 + i, "agent silent", $"web-{i}", AlertState.Firing, AlertSeverity.Warning, now))
            .ToList();
        var alerts = new FakeAlertData { Active = [.. silent, ProjectionSamples.Alert(1, "fds critical", "web-2", AlertState.Firing, AlertSeverity.Critical, now)] };
        await using var ctx = DashboardContext.Create(TwoHosts(now), new FakeLiveFeed(), alerts: alerts);
        var cut = ctx.Render<Overview>();

        cut.WaitForAssertion(() =>
        {
            var rows = cut.FindAll("[data-testid=firing-alerts] [data-testid=firing-alert]");
            Assert.Equal(Fleet.Web.Components.Shared.FiringAlerts.MaxShown, rows.Count);
            Assert.Equal("fds critical", rows[0].GetAttribute("data-rule"));
            var more = cut.Find("[data-testid=firing-more]");
            Assert.Equal((21 - rows.Count).ToString(System.Globalization.CultureInfo.InvariantCulture), more.GetAttribute("data-value"));
            Assert.Equal("/alerts", more.GetAttribute("href"));
        }, Wait);
    }

    [Fact]
    public async Task Overview_ReReadsTheAlerts_WhenASnapshotArrives()
    {
        var now = DateTimeOffset.UtcNow;
        var alerts = new FakeAlertData();
        var feed = new FakeLiveFeed();
        await using var ctx = DashboardContext.Create(TwoHosts(now), feed, alerts: alerts);
        var cut = ctx.Render<Overview>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=no-firing]")), Wait);
        cut.WaitForAssertion(() => Assert.Equal(1, feed.ActiveSubscriptions), Wait);

        alerts.Active = [ProjectionSamples.Alert(7, "fds high", "web-1", AlertState.Firing, AlertSeverity.Warning, now)];
        await feed.PublishAsync(Samples.Live("web-1", 6, DateTimeOffset.UtcNow, 3, Samples.LiveService("api", 3)));

        cut.WaitForAssertion(() => Assert.Equal("fds high", cut.Find("[data-testid=firing-alert]").GetAttribute("data-rule")), Wait);
    }

    [Fact]
    public async Task HostPage_ShowsOnlyThisHostsFiringAlerts()
    {
        var now = DateTimeOffset.UtcNow;
        var alerts = new FakeAlertData
        {
            Active =
            [
                ProjectionSamples.Alert(1, "fds high", "web-1", AlertState.Firing, AlertSeverity.Warning, now),
                ProjectionSamples.Alert(2, "fds critical", "web-2", AlertState.Firing, AlertSeverity.Critical, now),
            ],
        };
        await using var ctx = DashboardContext.Create(TwoHosts(now), new FakeLiveFeed(), alerts: alerts);
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        cut.WaitForAssertion(() =>
        {
            var row = Assert.Single(cut.FindAll("[data-testid=firing-alert]"));
            Assert.Equal("web-1", row.GetAttribute("data-host"));
            Assert.Equal("fds high", row.GetAttribute("data-rule"));
        }, Wait);
        Assert.All(alerts.ActiveHosts, h => Assert.Equal("web-1", h));
    }

    [Fact]
    public async Task HostPage_WhenAlertsFail_ShowsTheErrorBesideTheHost()
    {
        var now = DateTimeOffset.UtcNow;
        var alerts = new FakeAlertData { Failure = new InvalidOperationException("alert store down") };
        await using var ctx = DashboardContext.Create(TwoHosts(now), new FakeLiveFeed(), alerts: alerts);
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        cut.WaitForAssertion(() =>
        {
            Assert.Contains("alert store down", cut.Find("[data-testid=alerts-error]").TextContent, StringComparison.Ordinal);
            Assert.Single(cut.FindAll("[data-testid=service-row]"));
        }, Wait);
    }
}
