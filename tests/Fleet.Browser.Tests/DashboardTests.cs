using System.Globalization;
using System.Text.RegularExpressions;
using Fleet.Browser.Tests.Browsing;
using Fleet.Browser.Tests.Hosting;
using Fleet.Browser.Tests.Leaking;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Fleet.Browser.Tests;

/// <summary>
/// The dashboard in a real browser against the real server, its database and its agent watching this machine,
/// with a process leaking CLOSE_WAIT sockets grouped as the service leaky-client. Tests of this class run one
/// after another (xunit), so at most one leaker runs at a time.
/// </summary>
public sealed class DashboardTests(DashboardFixture fixture, ITestOutputHelper output) : IClassFixture<DashboardFixture>
{
    private const int TestTimeout = 120_000;
    private const string Leaky = DashboardServer.LeakyService;

    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(100);

    static DashboardTests() => SetDefaultExpectTimeout(ObservedPage.Timeout);

    private string Host => fixture.HostName;

    private string HostPath => $"/hosts/{Uri.EscapeDataString(Host)}";

    [Fact(Timeout = TestTimeout)]
    public Task Overview_ListsThisMachineAsLive_AndItsHostLinkOpensTheHostPage() => WithLogsAsync(async () =>
    {
        await using var page = await fixture.OpenPageAsync();
        await page.GoAsync("/");

        var row = page.Page.Locator($"[data-testid=host-row][data-host='{Host}']");
        await Expect(row).ToBeVisibleAsync();
        await Expect(row.GetByTestId("host-status")).ToHaveAttributeAsync("data-status", "live");
        await Expect(row.GetByTestId("host-close-wait")).ToHaveAttributeAsync("data-value", new Regex(@"^\d+$"));
        await page.ScreenshotAsync("overview");

        await row.GetByTestId("host-link").ClickAsync();

        await Expect(page.Page).ToHaveURLAsync(new Regex($"{Regex.Escape(HostPath)}(\\?.*)?$"));
        await Expect(page.Page.GetByTestId("host-name")).ToContainTextAsync(Host);
        await Expect(page.Page.GetByTestId("host-status")).ToHaveAttributeAsync("data-status", "live");
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task HostPage_WhileALeakerRuns_GrowsItsCloseWaitFiguresLive_WithoutReloading() => WithLogsAsync(async () =>
    {
        // 120 s worth of leaking at one socket per 300 ms: it grows for longer than this test waits.
        await using var leaker = fixture.StartLeaker(max: 400);
        await using var page = await fixture.OpenPageAsync();
        await page.GoAsync($"{HostPath}?range=15m");
        await page.EvaluateAsync<int>("() => window.__fleetMarker = 1");
        int loads = page.Loads;

        var service = page.Page.Locator($"[data-testid=service-row][data-service='{Leaky}']");
        await Expect(service).ToBeVisibleAsync();
        const string serviceFigure = $"[data-testid=service-row][data-service='{Leaky}'] [data-testid=service-close-wait]";
        string remoteFigure = $"[data-testid=remote-row][data-remote='127.0.0.1:{leaker.Port}'] [data-testid=remote-count]";
        long service0 = await NumberAsync(page, serviceFigure, "data-value");
        long host0 = await NumberAsync(page, "[data-testid=host-close-wait]", "data-value");
        long points0 = await NumberAsync(page, "[data-testid=close-wait-chart]", "data-points");
        long sequence0 = await NumberAsync(page, "[data-testid=last-snapshot]", "data-sequence");
        long remote0 = await NumberAsync(page, remoteFigure, "data-value");
        output.WriteLine($"first seen: leaky-client {service0}, host {host0}, chart points {points0}, sequence {sequence0}, remote {remote0}");

        await UntilAboveAsync(page, "[data-testid=last-snapshot]", "data-sequence", sequence0);
        await UntilAboveAsync(page, serviceFigure, "data-value", service0);
        await UntilAboveAsync(page, "[data-testid=host-close-wait]", "data-value", host0);
        await UntilAboveAsync(page, "[data-testid=close-wait-chart]", "data-points", points0);
        await UntilAboveAsync(page, remoteFigure, "data-value", remote0);
        await page.ScreenshotAsync("host");

        Assert.Equal(1, await page.EvaluateAsync<int>("() => window.__fleetMarker"));
        Assert.Equal(loads, page.Loads);
        Assert.False(leaker.HasExited, "the leaker stopped before the test ended");
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task HostPage_LeakyClientCloseWait_EqualsTheLeakedSocketsTheKernelHoldsInCloseWait() => WithLogsAsync(async () =>
    {
        const int Leaked = 12;
        await using var leaker = fixture.StartLeaker(max: Leaked);
        // Counted by the test from /proc/net/tcp and the leaker's fds, not through Fleet: all of them, then held.
        int inKernel = await UntilKernelCountAsync(leaker, Leaked);
        await using var page = await fixture.OpenPageAsync();
        await page.GoAsync(HostPath);

        const string serviceFigure = $"[data-testid=service-row][data-service='{Leaky}'] [data-testid=service-close-wait]";
        string remoteFigure = $"[data-testid=remote-row][data-remote='127.0.0.1:{leaker.Port}'] [data-testid=remote-count]";
        // Eventually equal: the agent reports every second, the page follows each stored snapshot.
        await UntilEqualAsync(page, serviceFigure, "data-value", inKernel);
        await UntilEqualAsync(page, remoteFigure, "data-value", inKernel);

        long hostTotal = await NumberAsync(page, "[data-testid=host-close-wait]", "data-value");
        Assert.True(hostTotal >= inKernel, $"the host's CLOSE_WAIT total {hostTotal} is below leaky-client's {inKernel}");
        Assert.Equal(inKernel, leaker.CountInKernel());
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task ServicePage_ListsThisHostAsAnInstance_AndItsHostLinkLeadsBack() => WithLogsAsync(async () =>
    {
        await using var leaker = fixture.StartLeaker(max: 5);
        await using var page = await fixture.OpenPageAsync();
        await page.GoAsync(HostPath);

        var service = page.Page.Locator($"[data-testid=service-row][data-service='{Leaky}']");
        await service.GetByTestId("service-link").ClickAsync();

        await Expect(page.Page).ToHaveURLAsync(new Regex($"/services/{Regex.Escape(Leaky)}(\\?.*)?$"));
        await Expect(page.Page.GetByTestId("service-name")).ToContainTextAsync(Leaky);
        var instance = page.Page.Locator($"[data-testid=instance-row][data-host='{Host}']");
        await Expect(instance).ToBeVisibleAsync();
        await Expect(page.Page.GetByTestId("service-close-wait-chart")).ToBeVisibleAsync();
        await Expect(page.Page.GetByTestId("service-fds-chart")).ToBeVisibleAsync();
        await page.ScreenshotAsync("service");

        await instance.GetByTestId("host-link").ClickAsync();

        await Expect(page.Page).ToHaveURLAsync(new Regex($"{Regex.Escape(HostPath)}(\\?.*)?$"));
        await Expect(page.Page.GetByTestId("host-name")).ToContainTextAsync(Host);
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task RangePicker_PutsTheRangeInTheUrl_AndOpeningThatUrlShowsTheSameRangeSelected() => WithLogsAsync(async () =>
    {
        await using var page = await fixture.OpenPageAsync();
        await page.GoAsync(HostPath);
        await UntilSelectedAsync(page, "range-1h", selected: true);

        await page.Page.GetByTestId("range-6h").ClickAsync();

        await Expect(page.Page).ToHaveURLAsync(new Regex(@"[?&]range=6h(&|$)"));
        await UntilSelectedAsync(page, "range-6h", selected: true);
        await UntilSelectedAsync(page, "range-1h", selected: false);
        string url = page.Page.Url;
        page.AssertNoErrors();

        await using var fresh = await fixture.OpenPageAsync();
        await fresh.GoAsync(url);
        await UntilSelectedAsync(fresh, "range-6h", selected: true);
        await UntilSelectedAsync(fresh, "range-1h", selected: false);
        fresh.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task ThemeToggle_SwitchesToTheLightTheme_WhichStaysOnTheHostAndServicePagesAndAfterAReload() => WithLogsAsync(async () =>
    {
        await using var leaker = fixture.StartLeaker(max: 5);
        await using var page = await fixture.OpenPageAsync();
        await page.GoAsync("/");
        await UntilBackgroundAsync(page, light: false);

        await page.Page.GetByTestId("theme-toggle").ClickAsync();

        await UntilBackgroundAsync(page, light: true);
        await page.ScreenshotAsync("overview-light");
        await page.Page.Locator($"[data-testid=host-row][data-host='{Host}'] [data-testid=host-link]").ClickAsync();
        await Expect(page.Page.GetByTestId("host-name")).ToContainTextAsync(Host);
        await UntilBackgroundAsync(page, light: true);
        await Expect(page.Page.Locator($"[data-testid=service-row][data-service='{Leaky}']")).ToBeVisibleAsync();
        await page.ScreenshotAsync("host-light");
        await page.Page.Locator($"[data-testid=service-row][data-service='{Leaky}'] [data-testid=service-link]").ClickAsync();
        await Expect(page.Page.Locator($"[data-testid=instance-row][data-host='{Host}']")).ToBeVisibleAsync();
        await UntilBackgroundAsync(page, light: true);
        await page.ScreenshotAsync("service-light");
        // The choice is the reader's, kept by the browser: a reload (or a pasted link) opens in it too.
        await page.Page.ReloadAsync();
        await page.WaitInteractiveAsync();
        await Expect(page.Page.Locator($"[data-testid=instance-row][data-host='{Host}']")).ToBeVisibleAsync();
        await UntilBackgroundAsync(page, light: true);
        page.AssertNoErrors();
    });

    /// <summary>The number in <paramref name="attribute"/> of the first element matching <paramref name="selector"/> (waits for it).</summary>
    private static async Task<long> NumberAsync(ObservedPage page, string selector, string attribute)
    {
        var element = page.Page.Locator(selector).First;
        await Expect(element).ToHaveAttributeAsync(attribute, new Regex(@"^-?\d+$"));
        string? value = await element.GetAttributeAsync(attribute);
        return long.Parse(value!, CultureInfo.InvariantCulture);
    }

    private static async Task UntilAboveAsync(ObservedPage page, string selector, string attribute, long floor)
    {
        await page.Page.WaitForFunctionAsync(
            "([selector, attribute, floor]) => { const e = document.querySelector(selector); return e !== null && Number(e.getAttribute(attribute)) > floor; }",
            new object[] { selector, attribute, floor },
            new PageWaitForFunctionOptions { Timeout = ObservedPage.Timeout, PollingInterval = 100 });
    }

    private static async Task UntilEqualAsync(ObservedPage page, string selector, string attribute, long expected)
    {
        try
        {
            await page.Page.WaitForFunctionAsync(
                "([selector, attribute, expected]) => { const e = document.querySelector(selector); return e !== null && Number(e.getAttribute(attribute)) === expected; }",
                new object[] { selector, attribute, expected },
                new PageWaitForFunctionOptions { Timeout = ObservedPage.Timeout, PollingInterval = 100 });
        }
        catch (TimeoutException)
        {
            string? shown = await page.Page.Locator(selector).First.GetAttributeAsync(attribute, new LocatorGetAttributeOptions { Timeout = 1_000 });
            Assert.Fail($"{selector} {attribute} is {shown ?? "(absent)"}, expected {expected}");
        }
    }

    /// <summary>A range button counts as selected when it says so to assistive technology (aria-pressed, aria-selected or aria-current).</summary>
    private static async Task UntilSelectedAsync(ObservedPage page, string testId, bool selected) =>
        await page.Page.WaitForFunctionAsync(
            """
            ([testId, selected]) => {
                const e = document.querySelector(`[data-testid="${testId}"]`);
                if (e === null) return false;
                const on = e.getAttribute('aria-pressed') === 'true' || e.getAttribute('aria-selected') === 'true'
                    || (e.getAttribute('aria-current') ?? 'false') !== 'false';
                return on === selected;
            }
            """,
            new object[] { testId, selected },
            new PageWaitForFunctionOptions { Timeout = ObservedPage.Timeout, PollingInterval = 100 });

    /// <summary>The page's background (body, MudBlazor's palette background) is light (relative luminance above 0.5) or dark.</summary>
    private static async Task UntilBackgroundAsync(ObservedPage page, bool light)
    {
        try
        {
            await page.Page.WaitForFunctionAsync(
                """
                (light) => {
                    const m = getComputedStyle(document.body).backgroundColor.match(/\d+(\.\d+)?/g);
                    if (m === null || m.length < 3) return false;
                    const [r, g, b] = m.slice(0, 3).map(Number);
                    const luminance = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
                    return (luminance > 0.5) === light;
                }
                """,
                light,
                new PageWaitForFunctionOptions { Timeout = ObservedPage.Timeout, PollingInterval = 100 });
        }
        catch (TimeoutException e)
        {
            string state = await page.EvaluateAsync<string>(
                "() => `background ${getComputedStyle(document.body).backgroundColor}, toggle data-theme ${document.querySelector('[data-testid=theme-toggle]')?.getAttribute('data-theme')}, stored ${localStorage.getItem('fleet-theme')}, url ${location.pathname}`");
            throw new TimeoutException($"the page did not turn {(light ? "light" : "dark")}: {state}", e);
        }
    }

    private static async Task<int> UntilKernelCountAsync(CloseWaitLeaker leaker, int expected)
    {
        using var deadline = new CancellationTokenSource(DashboardFixture.Deadline);
        int count;
        while ((count = leaker.CountInKernel()) != expected)
        {
            Assert.False(leaker.HasExited, "the leaker exited early");
            Assert.False(deadline.IsCancellationRequested, $"the kernel shows {count} of the leaker's sockets in CLOSE_WAIT, not {expected}, after {DashboardFixture.Deadline.TotalSeconds} s");
            await Task.Delay(PollEvery, CancellationToken.None);
        }
        return count;
    }

    /// <summary>
    /// Runs the test, then checks that the pages' server side (Blazor circuits, the UI, its data and live feed)
    /// logged no error meanwhile; when it fails, the server's and the test's log lines go to its output.
    /// </summary>
    private async Task WithLogsAsync(Func<Task> test)
    {
        int before = fixture.PageServerErrors().Count;
        try
        {
            await test();
            var errors = fixture.PageServerErrors().Skip(before).ToList();
            Assert.True(errors.Count == 0, $"the server logged errors while serving the pages:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
        }
        catch
        {
            fixture.WriteLogsTo(output);
            throw;
        }
    }
}
