using System.Globalization;
using Fleet.Web.Components.Pages;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Web.Tests.Pages;

/// <summary>Projections where decisions are made: dashed lines and restart markers on the graphs, time to exhaustion in the tables.</summary>
public sealed class ProjectionUiTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);

    private static (FakeDashboardData Data, FakeProjectionData Projections, DateTimeOffset Now) HostWithALeak()
    {
        var now = DateTimeOffset.UtcNow;
        var detail = Samples.HostDetail("web-1", now.AddSeconds(-10), 5, Samples.ServiceRow("api", 4), Samples.ServiceRow("worker", 1));
        var soft = Samples.Series("soft_pct",
            Samples.Line("api", (now.AddMinutes(-50), 60), (now.AddMinutes(-10), 70)),
            Samples.Line("worker", (now.AddMinutes(-50), 30), (now.AddMinutes(-10), 30)));
        var data = new FakeDashboardData();
        data.Hosts["web-1"] = Samples.HostView(detail, Samples.Series("close_wait"), soft);
        var projections = new FakeProjectionData
        {
            All =
            [
                // Two restarts inside the default hour, one long before it (not marked).
                ProjectionSamples.Leak("web-1", "api", now, TimeSpan.FromMinutes(200), 42, now.AddDays(-2), now.AddMinutes(-40), now.AddMinutes(-20)) with
                {
                    RestartCadence = TimeSpan.FromHours(4),
                    SocketLeak = new SocketLeak("10.0.3.7:443", 40, 120, 0.95),
                },
                ProjectionSamples.NoLeak("web-1", "worker", now),
                // A process projection: tables and graphs show instances only.
                ProjectionSamples.Leak("web-1", "worker", now, TimeSpan.FromMinutes(30)) with { Pid = 99, Command = "worker" },
                // Another host's leak is not this host's.
                ProjectionSamples.Leak("web-2", "api", now, TimeSpan.FromMinutes(10)),
            ],
        };
        return (data, projections, now);
    }

    [Fact]
    public async Task HostPage_LimitsChart_DrawsOneDashedLinePerLeakingInstance_AndMarksRestartsInTheWindow()
    {
        var (data, projections, _) = HostWithALeak();
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed(), projections);
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        cut.WaitForAssertion(() =>
        {
            var chart = cut.Find("[data-testid=limits-chart]");
            Assert.Equal("1", chart.GetAttribute("data-projection"));
            Assert.Equal("2", chart.GetAttribute("data-restarts"));
            Assert.Equal("4", chart.GetAttribute("data-points"));
        }, Wait);
    }

    [Fact]
    public async Task HostPage_FocusedOnAServiceWithoutLeak_DrawsNoProjection()
    {
        var (data, projections, _) = HostWithALeak();
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed(), projections);
        ctx.Services.GetRequiredService<NavigationManager>().NavigateTo("/hosts/web-1?service=worker");
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        cut.WaitForAssertion(() =>
        {
            var chart = cut.Find("[data-testid=limits-chart]");
            Assert.Equal("0", chart.GetAttribute("data-projection"));
            Assert.Equal("0", chart.GetAttribute("data-restarts"));
        }, Wait);
    }

    [Fact]
    public async Task HostPage_ServicesTable_ShowsTimeToExhaustionSlopeSocketLeakAndRestartCadence()
    {
        var (data, projections, _) = HostWithALeak();
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed(), projections);
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        cut.WaitForAssertion(() =>
        {
            var api = cut.Find("[data-testid=service-row][data-service=api] [data-testid=service-tte]");
            Assert.Equal(Seconds(TimeSpan.FromMinutes(200)), api.GetAttribute("data-value"));
            Assert.Contains("in 3 h 20 min", api.TextContent, StringComparison.Ordinal);
            Assert.Contains("+42 fds/h", api.TextContent, StringComparison.Ordinal);
            Assert.Contains("socket leak toward 10.0.3.7:443", api.TextContent, StringComparison.Ordinal);
            Assert.Equal("restarts every ~4 h", api.QuerySelector("[data-testid=restart-cadence]")!.TextContent.Trim());

            var worker = cut.Find("[data-testid=service-row][data-service=worker] [data-testid=service-tte]");
            Assert.Equal("", worker.GetAttribute("data-value"));
            Assert.Contains("no leak", worker.TextContent, StringComparison.Ordinal);
            Assert.Null(worker.QuerySelector("[data-testid=restart-cadence]"));
        }, Wait);
    }

    [Fact]
    public async Task HostPage_WhenProjectionsFail_SaysSoAndStillShowsTheHost()
    {
        var (data, projections, _) = HostWithALeak();
        projections.Failure = new InvalidOperationException("projection store down");
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed(), projections);
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        cut.WaitForAssertion(() =>
        {
            Assert.Contains("projection store down", cut.Find("[data-testid=projections-error]").TextContent, StringComparison.Ordinal);
            Assert.Equal(2, cut.FindAll("[data-testid=service-row]").Count);
            Assert.Contains("not projected yet", cut.Find("[data-testid=service-row][data-service=api] [data-testid=service-tte]").TextContent, StringComparison.Ordinal);
        }, Wait);
    }

    [Fact]
    public async Task ServicePage_LimitsChartAndInstancesTable_ShowEachInstancesProjection()
    {
        var now = DateTimeOffset.UtcNow;
        var data = new FakeDashboardData();
        data.Services["api"] = new ServiceView("api",
            [new InstanceRow("web-1", now, Samples.Interval, Samples.Risk("web-1", "api", now)), new InstanceRow("web-2", now, Samples.Interval, Samples.Risk("web-2", "api", now, 50))],
            Samples.Series("open_fds", Samples.Line("web-1", (now.AddMinutes(-30), 800), (now.AddMinutes(-1), 900)), Samples.Line("web-2", (now.AddMinutes(-1), 300))),
            Samples.Series("soft_pct", Samples.Line("web-1", (now.AddMinutes(-30), 78), (now.AddMinutes(-1), 88)), Samples.Line("web-2", (now.AddMinutes(-1), 29))),
            Samples.Series("close_wait"));
        var projections = new FakeProjectionData
        {
            All =
            [
                ProjectionSamples.Leak("web-1", "api", now, TimeSpan.FromHours(30), 5, now.AddMinutes(-45)),
                ProjectionSamples.Insufficient("web-2", "api", now),
            ],
        };
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed(), projections);
        var cut = ctx.Render<ServicePage>(p => p.Add(s => s.Name, "api"));

        cut.WaitForAssertion(() =>
        {
            var chart = cut.Find("[data-testid=service-limits-chart]");
            Assert.Equal("1", chart.GetAttribute("data-projection"));
            Assert.Equal("1", chart.GetAttribute("data-restarts"));
            var web1 = cut.Find("[data-testid=instance-row][data-host=web-1] [data-testid=instance-tte]");
            Assert.Equal(Seconds(TimeSpan.FromHours(30)), web1.GetAttribute("data-value"));
            Assert.Contains("in 1 d 6 h", web1.TextContent, StringComparison.Ordinal);
            var web2 = cut.Find("[data-testid=instance-row][data-host=web-2] [data-testid=instance-tte]");
            Assert.Equal("", web2.GetAttribute("data-value"));
            Assert.Contains("not enough data", web2.TextContent, StringComparison.Ordinal);
        }, Wait);
    }

    [Fact]
    public async Task Overview_AtRiskRows_ShowTheProjectionTheServerJoined_InTheServersOrder()
    {
        var now = DateTimeOffset.UtcNow;
        var data = new FakeDashboardData
        {
            Overview = new FleetOverview([Samples.HostRow("web-1", now), Samples.HostRow("web-2", now)],
                [
                    Samples.Risk("web-1", "api", now, 70) with { Projection = ProjectionSamples.Leak("web-1", "api", now, TimeSpan.FromMinutes(90)) },
                    Samples.Risk("web-2", "db", now, 90) with { Projection = ProjectionSamples.NoLeak("web-2", "db", now) },
                    Samples.Risk("web-2", "cache", now, 60),
                ], Samples.Interval),
        };
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed());
        var cut = ctx.Render<Overview>();

        cut.WaitForAssertion(() =>
        {
            var api = cut.Find("[data-testid=at-risk-row][data-host=web-1][data-service=api] [data-testid=at-risk-tte]");
            Assert.Equal(Seconds(TimeSpan.FromMinutes(90)), api.GetAttribute("data-value"));
            Assert.Contains("in 1 h 30 min", api.TextContent, StringComparison.Ordinal);
            Assert.Contains("mud-error-text", api.InnerHtml, StringComparison.Ordinal);
            var db = cut.Find("[data-testid=at-risk-row][data-host=web-2][data-service=db] [data-testid=at-risk-tte]");
            Assert.Equal("", db.GetAttribute("data-value"));
            Assert.Contains("no leak", db.TextContent, StringComparison.Ordinal);
            Assert.Contains("not projected yet", cut.Find("[data-testid=at-risk-row][data-service=cache] [data-testid=at-risk-tte]").TextContent, StringComparison.Ordinal);
        }, Wait);
        // The server orders the at-risk rows (soonest exhaustion first): the page keeps its order.
        Assert.Equal(["api", "db", "cache"], cut.FindAll("[data-testid=at-risk-row]").Select(r => r.GetAttribute("data-service")));
    }

    [Fact]
    public async Task ServicePage_KeepsAnInstancesProjection_WhenALiveSummaryArrives()
    {
        var now = DateTimeOffset.UtcNow;
        var data = new FakeDashboardData();
        data.Services["api"] = new ServiceView("api",
            [new InstanceRow("web-1", now, Samples.Interval, Samples.Risk("web-1", "api", now) with { Projection = ProjectionSamples.Leak("web-1", "api", now, TimeSpan.FromHours(5)) })],
            Samples.Series("open_fds", Samples.Line("web-1", (now.AddMinutes(-1), 900))), Samples.Series("soft_pct"), Samples.Series("close_wait"));
        // The projection port has nothing: the row's own projection (joined by the server) is what shows.
        var feed = new FakeLiveFeed();
        await using var ctx = DashboardContext.Create(data, feed);
        var cut = ctx.Render<ServicePage>(p => p.Add(s => s.Name, "api"));
        cut.WaitForAssertion(() => Assert.Equal(1, feed.ActiveSubscriptions), Wait);

        await feed.PublishAsync(Samples.Live("web-1", 6, DateTimeOffset.UtcNow, 12, Samples.LiveService("api", 12)));

        cut.WaitForAssertion(() =>
        {
            Assert.Equal("12", cut.Find("[data-testid=instance-row][data-host=web-1] [data-testid=instance-close-wait]").GetAttribute("data-value"));
            Assert.Equal(Seconds(TimeSpan.FromHours(5)), cut.Find("[data-testid=instance-row][data-host=web-1] [data-testid=instance-tte]").GetAttribute("data-value"));
        }, Wait);
    }
}
