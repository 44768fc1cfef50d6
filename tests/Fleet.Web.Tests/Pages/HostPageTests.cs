using Fleet.Web.Components.Pages;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Web.Tests.Pages;

public sealed class HostPageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static (FakeDashboardData Data, DateTimeOffset Now) OneHost(string name = "web-1")
    {
        var now = DateTimeOffset.UtcNow;
        var detail = Samples.HostDetail(name, now.AddSeconds(-10), 5, Samples.ServiceRow("api", 4), Samples.ServiceRow("worker", 1));
        var closeWait = Samples.Series("close_wait",
            Samples.Line("api", (now.AddMinutes(-2), 2), (now.AddMinutes(-1), null), (now.AddSeconds(-10), 4)),
            Samples.Line("worker", (now.AddSeconds(-10), 1)));
        var data = new FakeDashboardData();
        data.Hosts[name] = Samples.HostView(detail, closeWait);
        return (data, now);
    }

    [Fact]
    public async Task Load_ShowsTheLatestCloseWaitTotalAndTheSeriesPoints()
    {
        var (data, _) = OneHost();
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed());
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        var detail = data.Hosts["web-1"].Detail;
        var expectedTotal = detail.Services.Sum(s => (long)s.Tcp.CloseWait) + (long)detail.UnownedTcp.CloseWait;
        Assert.Equal(expectedTotal.ToString(System.Globalization.CultureInfo.InvariantCulture), cut.Find("[data-testid=host-close-wait]").GetAttribute("data-value"));
        var nonNull = data.Hosts["web-1"].Series.CloseWaitByService.Series.Sum(s => s.Points.Count(p => p.Value is not null));
        Assert.Equal(nonNull.ToString(System.Globalization.CultureInfo.InvariantCulture), cut.Find("[data-testid=close-wait-chart]").GetAttribute("data-points"));
        Assert.Equal("5", cut.Find("[data-testid=last-snapshot]").GetAttribute("data-sequence"));
        Assert.Equal(2, cut.FindAll("[data-testid=service-row]").Count);
    }

    [Fact]
    public async Task LiveSnapshot_GrowsTheCloseWaitFigureAndTheGraph()
    {
        var (data, _) = OneHost();
        var feed = new FakeLiveFeed();
        await using var ctx = DashboardContext.Create(data, feed);
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));
        cut.WaitForAssertion(() => Assert.Equal(1, feed.ActiveSubscriptions), Wait);
        var pointsBefore = int.Parse(cut.Find("[data-testid=close-wait-chart]").GetAttribute("data-points")!, System.Globalization.CultureInfo.InvariantCulture);

        // api 30 + worker 5 + 2 sockets no process owns: the host's total counts all, the two service lines get a point.
        await feed.PublishAsync(Samples.Live("web-1", 6, DateTimeOffset.UtcNow, 37, Samples.LiveService("api", 30), Samples.LiveService("worker", 5)));

        cut.WaitForAssertion(() =>
        {
            Assert.Equal("37", cut.Find("[data-testid=host-close-wait]").GetAttribute("data-value"));
            Assert.Equal("6", cut.Find("[data-testid=last-snapshot]").GetAttribute("data-sequence"));
            var chart = cut.Find("[data-testid=close-wait-chart]");
            Assert.Equal((pointsBefore + 2).ToString(System.Globalization.CultureInfo.InvariantCulture), chart.GetAttribute("data-points"));
            Assert.Equal("35", chart.GetAttribute("data-last"));
            Assert.Equal("30", cut.Find("[data-testid=service-row][data-service=api] [data-testid=service-close-wait]").GetAttribute("data-value"));
        }, Wait);
    }

    [Fact]
    public async Task LiveSnapshot_WhenTheSeriesHaveTheUnownedLine_GrowsItToo()
    {
        var (data, now) = OneHost();
        var view = data.Hosts["web-1"];
        var closeWait = view.Series.CloseWaitByService;
        data.Hosts["web-1"] = view with
        {
            Series = view.Series with
            {
                CloseWaitByService = closeWait with { Series = [.. closeWait.Series, Samples.Line(SeriesNames.Unowned, (now.AddSeconds(-10), 1))] },
            },
        };
        var feed = new FakeLiveFeed();
        await using var ctx = DashboardContext.Create(data, feed);
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));
        cut.WaitForAssertion(() => Assert.Equal(1, feed.ActiveSubscriptions), Wait);

        await feed.PublishAsync(Samples.Live("web-1", 6, DateTimeOffset.UtcNow, 37, Samples.LiveService("api", 30), Samples.LiveService("worker", 5)));

        cut.WaitForAssertion(() => Assert.Equal("37", cut.Find("[data-testid=close-wait-chart]").GetAttribute("data-last")), Wait);
    }

    [Fact]
    public async Task LiveSnapshot_InACustomWindow_UpdatesTheFiguresButNotThePastGraph()
    {
        var (data, now) = OneHost();
        var feed = new FakeLiveFeed();
        await using var ctx = DashboardContext.Create(data, feed);
        var nav = ctx.Services.GetRequiredService<NavigationManager>();
        var from = Fleet.Web.Display.TimeRanges.FormatInstant(now.AddHours(-3));
        var to = Fleet.Web.Display.TimeRanges.FormatInstant(now.AddMinutes(-1));
        nav.NavigateTo($"/hosts/web-1?range=custom&from={from}&to={to}");
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));
        cut.WaitForAssertion(() => Assert.Equal(1, feed.ActiveSubscriptions), Wait);
        Assert.False(Assert.Single(data.HostWindows).Live);
        var pointsBefore = cut.Find("[data-testid=close-wait-chart]").GetAttribute("data-points");

        await feed.PublishAsync(Samples.Live("web-1", 6, DateTimeOffset.UtcNow, 37, Samples.LiveService("api", 30), Samples.LiveService("worker", 5)));

        cut.WaitForAssertion(() => Assert.Equal("37", cut.Find("[data-testid=host-close-wait]").GetAttribute("data-value")), Wait);
        Assert.Equal(pointsBefore, cut.Find("[data-testid=close-wait-chart]").GetAttribute("data-points"));
    }

    [Fact]
    public async Task LiveSnapshot_OfAnotherHost_ChangesNothing()
    {
        var (data, _) = OneHost();
        var feed = new FakeLiveFeed();
        await using var ctx = DashboardContext.Create(data, feed);
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));
        cut.WaitForAssertion(() => Assert.Equal(1, feed.ActiveSubscriptions), Wait);
        var before = cut.Find("[data-testid=host-close-wait]").GetAttribute("data-value");

        await feed.PublishAsync(Samples.Live("web-2", 6, DateTimeOffset.UtcNow, 99, Samples.LiveService("api", 99)));

        Assert.Equal([LiveTopic.Host("web-1")], feed.Topics);
        Assert.Equal(before, cut.Find("[data-testid=host-close-wait]").GetAttribute("data-value"));
    }

    [Fact]
    public async Task UnknownHost_SaysSoAndLinksBack()
    {
        await using var ctx = DashboardContext.Create(new FakeDashboardData(), new FakeLiveFeed());
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "nope-9"));

        var message = cut.Find("[data-testid=not-found]");
        Assert.Contains("nope-9", message.TextContent, StringComparison.Ordinal);
        Assert.Equal("/", message.QuerySelector("a")!.GetAttribute("href"));
    }

    [Fact]
    public async Task FailingDataPort_ShowsAnErrorAlert()
    {
        var data = new FakeDashboardData { Failure = new TimeoutException("query timed out") };
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed());
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        Assert.Contains("query timed out", cut.Find("[data-testid=load-error]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RangePicker_PutsTheRangeInTheUrl()
    {
        var (data, _) = OneHost();
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed());
        var nav = ctx.Services.GetRequiredService<NavigationManager>();
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        cut.Find("[data-testid=range-6h]").Click();

        Assert.Contains("range=6h", nav.Uri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RangeInTheUrl_AsksForThatWindow()
    {
        var (data, _) = OneHost();
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed());
        var nav = ctx.Services.GetRequiredService<NavigationManager>();
        nav.NavigateTo("/hosts/web-1?range=7d");
        ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        var window = Assert.Single(data.HostWindows);
        Assert.Equal("7d", window.RangeKey);
        Assert.Equal(TimeSpan.FromDays(7), window.Length);
    }

    [Fact]
    public async Task ProcessTable_SaysHowManyProcessesOfHowManySeen()
    {
        var (data, _) = OneHost();
        await using var ctx = DashboardContext.Create(data, new FakeLiveFeed());
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));

        var detail = data.Hosts["web-1"].Detail;
        Assert.Equal(detail.Processes.Count, cut.FindAll("[data-testid=process-row]").Count);
        Assert.Contains($"of {detail.ProcessesSeen} seen", cut.Find("[data-testid=processes-shown]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposingThePage_EndsItsSubscription()
    {
        var (data, _) = OneHost();
        var feed = new FakeLiveFeed();
        await using var ctx = DashboardContext.Create(data, feed);
        var cut = ctx.Render<HostPage>(p => p.Add(h => h.Name, "web-1"));
        cut.WaitForAssertion(() => Assert.Equal(1, feed.ActiveSubscriptions), Wait);

        await ctx.DisposeComponentsAsync().WaitAsync(Wait);

        Assert.Equal(0, feed.ActiveSubscriptions);
    }
}
