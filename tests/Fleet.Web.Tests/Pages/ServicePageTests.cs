using System.Globalization;
using Fleet.Web.Components.Pages;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Web.Tests.Pages;

public sealed class ServicePageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static FakeDashboardData OneService()
    {
        var now = DateTimeOffset.UtcNow;
        var data = new FakeDashboardData();
        data.Services["api"] = new ServiceView("api",
            [new InstanceRow("web-1", now, Samples.Interval, Samples.Risk("web-1", "api", now)), new InstanceRow("web-2", now, Samples.Interval, Samples.Risk("web-2", "api", now, 50))],
            Samples.Series("open_fds", Samples.Line("web-1", (now.AddMinutes(-1), 900)), Samples.Line("web-2", (now.AddMinutes(-1), 300))),
            Samples.Series("soft_pct", Samples.Line("web-1", (now.AddMinutes(-1), 88))),
            Samples.Series("close_wait", Samples.Line("web-1", (now.AddMinutes(-1), 3))));
        return data;
    }

    [Fact]
    public async Task Load_ShowsOneRowPerInstanceWithHostLinks()
    {
        await using var ctx = DashboardContext.Create(OneService(), new FakeLiveFeed());
        var cut = ctx.Render<ServicePage>(p => p.Add(s => s.Name, "api"));

        Assert.Equal("api", cut.Find("[data-testid=service-name]").TextContent.Trim());
        var rows = cut.FindAll("[data-testid=instance-row]");
        Assert.Equal(["web-1", "web-2"], rows.Select(r => r.GetAttribute("data-host")).Order(StringComparer.Ordinal));
        Assert.Equal("/hosts/web-2", cut.Find("[data-testid=instance-row][data-host=web-2] [data-testid=host-link]").GetAttribute("href"));
    }

    [Fact]
    public async Task CompareInstances_LinksTheComparePage_ForTheServiceOnItsHosts_OverThePagesWindow()
    {
        await using var ctx = DashboardContext.Create(OneService(), new FakeLiveFeed());
        var navigation = ctx.Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo(navigation.GetUriWithQueryParameter("range", "6h"));
        var cut = ctx.Render<ServicePage>(p => p.Add(s => s.Name, "api"));

        // web-1's worst process is nearer its limit, so it comes first.
        Assert.Equal("/compare?hosts=web-1&hosts=web-2&service=api&range=6h", cut.Find("[data-testid=compare-instances]").GetAttribute("href"));
    }

    [Fact]
    public async Task LiveSnapshot_AppendsToTheInstanceGraphs()
    {
        var data = OneService();
        var feed = new FakeLiveFeed();
        await using var ctx = DashboardContext.Create(data, feed);
        var cut = ctx.Render<ServicePage>(p => p.Add(s => s.Name, "api"));
        cut.WaitForAssertion(() => Assert.Equal([LiveTopic.Service("api")], feed.Topics), Wait);
        var before = int.Parse(cut.Find("[data-testid=service-close-wait-chart]").GetAttribute("data-points")!, CultureInfo.InvariantCulture);

        await feed.PublishAsync(Samples.Live("web-2", 3, DateTimeOffset.UtcNow, 12, Samples.LiveService("api", 12)));

        cut.WaitForAssertion(() =>
        {
            Assert.Equal((before + 1).ToString(CultureInfo.InvariantCulture), cut.Find("[data-testid=service-close-wait-chart]").GetAttribute("data-points"));
            Assert.Equal("12", cut.Find("[data-testid=instance-row][data-host=web-2] [data-testid=instance-close-wait]").GetAttribute("data-value"));
        }, Wait);
    }

    [Fact]
    public async Task UnknownService_SaysSoAndLinksBack()
    {
        await using var ctx = DashboardContext.Create(new FakeDashboardData(), new FakeLiveFeed());
        var cut = ctx.Render<ServicePage>(p => p.Add(s => s.Name, "ghost"));

        var message = cut.Find("[data-testid=not-found]");
        Assert.Contains("ghost", message.TextContent, StringComparison.Ordinal);
        Assert.Equal("/", message.QuerySelector("a")!.GetAttribute("href"));
    }

    [Fact]
    public async Task DisposingThePage_EndsItsSubscription()
    {
        var feed = new FakeLiveFeed();
        await using var ctx = DashboardContext.Create(OneService(), feed);
        var cut = ctx.Render<ServicePage>(p => p.Add(s => s.Name, "api"));
        cut.WaitForAssertion(() => Assert.Equal(1, feed.ActiveSubscriptions), Wait);

        await ctx.DisposeComponentsAsync().WaitAsync(Wait);

        Assert.Equal(0, feed.ActiveSubscriptions);
    }
}
