using Fleet.Web.Components.Pages;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Web.Tests.Pages;

public sealed class OverviewTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task LiveSnapshot_OfStaleHost_UpdatesItsCloseWaitAndStatus()
    {
        var now = DateTimeOffset.UtcNow;
        var data = new FakeDashboardData
        {
            Overview = new FleetOverview(
                [Samples.HostRow("web-1", now.AddMinutes(-5), closeWait: 3), Samples.HostRow("web-2", now, closeWait: 1)],
                [Samples.Risk("web-1", "api", now.AddMinutes(-5))],
                Samples.Interval),
        };
        var feed = new FakeLiveFeed();
        await using var ctx = DashboardContext.Create(data, feed);
        var cut = ctx.Render<Overview>();
        cut.WaitForAssertion(() => Assert.Equal(1, feed.ActiveSubscriptions), Wait);
        var row = cut.Find("[data-testid=host-row][data-host=web-1]");
        Assert.Equal("stale", row.QuerySelector("[data-testid=host-status]")!.GetAttribute("data-status"));
        Assert.Equal("3", row.QuerySelector("[data-testid=host-close-wait]")!.GetAttribute("data-value"));

        await feed.PublishAsync(Samples.Live("web-1", 9, DateTimeOffset.UtcNow, 42, Samples.LiveService("api", 40)));

        cut.WaitForAssertion(() =>
        {
            var updated = cut.Find("[data-testid=host-row][data-host=web-1]");
            Assert.Equal("42", updated.QuerySelector("[data-testid=host-close-wait]")!.GetAttribute("data-value"));
            Assert.Equal("live", updated.QuerySelector("[data-testid=host-status]")!.GetAttribute("data-status"));
        }, Wait);
        // The other host is untouched.
        Assert.Equal("1", cut.Find("[data-testid=host-row][data-host=web-2] [data-testid=host-close-wait]").GetAttribute("data-value"));
    }

    [Fact]
    public async Task LiveSnapshot_RequeriesTheAtRiskList()
    {
        var now = DateTimeOffset.UtcNow;
        var data = new FakeDashboardData
        {
            Overview = new FleetOverview([Samples.HostRow("web-1", now)], [Samples.Risk("web-1", "api", now)], Samples.Interval),
        };
        var feed = new FakeLiveFeed();
        await using var ctx = DashboardContext.Create(data, feed);
        var cut = ctx.Render<Overview>();
        cut.WaitForAssertion(() => Assert.Equal(1, feed.ActiveSubscriptions), Wait);
        var callsBefore = data.OverviewCalls;
        data.Overview = data.Overview with { AtRisk = [Samples.Risk("web-1", "db", now, 97), Samples.Risk("web-1", "api", now)] };

        await feed.PublishAsync(Samples.Live("web-1", 2, DateTimeOffset.UtcNow, 0, Samples.LiveService("db", 0, 97)));

        cut.WaitForAssertion(() =>
        {
            Assert.True(data.OverviewCalls > callsBefore);
            var rows = cut.FindAll("[data-testid=at-risk-row]");
            Assert.Contains(rows, r => r.GetAttribute("data-service") == "db");
        }, Wait);
        var row = cut.Find("[data-testid=at-risk-row][data-service=db]");
        Assert.Equal("/services/db", row.QuerySelector("[data-testid=service-link]")!.GetAttribute("href"));
        Assert.Equal("/hosts/web-1", row.QuerySelector("[data-testid=at-risk-host-link]")!.GetAttribute("href"));
    }

    [Fact]
    public async Task HostRow_LinksToItsHostPage()
    {
        var data = new FakeDashboardData
        {
            Overview = new FleetOverview([Samples.HostRow("db-7", DateTimeOffset.UtcNow)], [], Samples.Interval),
        };
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed());
        var cut = ctx.Render<Overview>();

        Assert.Equal("/hosts/db-7", cut.Find("[data-testid=host-row][data-host=db-7] [data-testid=host-link]").GetAttribute("href"));
    }

    [Fact]
    public async Task Search_FromTheUrl_ShowsOnlyMatchingHosts()
    {
        var now = DateTimeOffset.UtcNow;
        var data = new FakeDashboardData
        {
            Overview = new FleetOverview([Samples.HostRow("web-1", now), Samples.HostRow("db-1", now)], [], Samples.Interval),
        };
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed());
        var nav = ctx.Services.GetRequiredService<NavigationManager>();
        nav.NavigateTo(nav.GetUriWithQueryParameter("q", "db"));
        var cut = ctx.Render<Overview>();

        var hosts = cut.FindAll("[data-testid=host-row]").Select(r => r.GetAttribute("data-host")).ToList();
        Assert.Equal(["db-1"], hosts);
    }

    [Fact]
    public async Task StatusFilter_FromTheUrl_ShowsOnlyHostsWithThatStatus()
    {
        var now = DateTimeOffset.UtcNow;
        var data = new FakeDashboardData
        {
            Overview = new FleetOverview([Samples.HostRow("web-1", now), Samples.HostRow("web-2", now.AddHours(-2)), Samples.HostRow("web-3", null)], [], Samples.Interval),
        };
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed());
        var nav = ctx.Services.GetRequiredService<NavigationManager>();
        nav.NavigateTo(nav.GetUriWithQueryParameter("status", "offline"));
        var cut = ctx.Render<Overview>();

        var hosts = cut.FindAll("[data-testid=host-row]").Select(r => r.GetAttribute("data-host")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["web-2", "web-3"], hosts);
    }

    [Fact]
    public async Task TypingASearch_PutsItInTheUrl()
    {
        var data = new FakeDashboardData
        {
            Overview = new FleetOverview([Samples.HostRow("web-1", DateTimeOffset.UtcNow)], [], Samples.Interval),
        };
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed());
        var nav = ctx.Services.GetRequiredService<NavigationManager>();
        var cut = ctx.Render<Overview>();

        cut.Find("input[data-testid=host-search]").Input("web");

        cut.WaitForAssertion(() => Assert.Contains("q=web", nav.Uri, StringComparison.Ordinal), Wait);
    }

    [Fact]
    public async Task NoHosts_ExplainsHowToPointAnAgent()
    {
        await using var ctx = DashboardContext.Create(new FakeDashboardData(), new FakeLiveFeed());
        var cut = ctx.Render<Overview>();

        Assert.Contains("fleet-agent run --server", cut.Find("[data-testid=no-hosts]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailingDataPort_ShowsAnErrorAlert()
    {
        var data = new FakeDashboardData { Failure = new InvalidOperationException("database is down") };
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed());
        var cut = ctx.Render<Overview>();

        Assert.Contains("database is down", cut.Find("[data-testid=load-error]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposingThePage_EndsItsSubscription()
    {
        var data = new FakeDashboardData { Overview = new FleetOverview([Samples.HostRow("web-1", DateTimeOffset.UtcNow)], [], Samples.Interval) };
        var feed = new FakeLiveFeed();
        await using var ctx = DashboardContext.Create(data, feed);
        var cut = ctx.Render<Overview>();
        cut.WaitForAssertion(() => Assert.Equal(1, feed.ActiveSubscriptions), Wait);

        await ctx.DisposeComponentsAsync().WaitAsync(Wait);

        Assert.Equal(0, feed.ActiveSubscriptions);
    }
}
