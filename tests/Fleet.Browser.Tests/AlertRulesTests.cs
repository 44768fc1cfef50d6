using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Fleet.Browser.Tests.Browsing;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Fleet.Browser.Tests;

/// <summary>
/// Alert rules edited in a real browser against the real server and its database (IAlertRules over EF Core): a rule
/// is created, edited and deleted through the UI, and each change shows in the table and in the audit log. Also: the
/// plotly charts render in Debian's Chromium from scripts the server itself serves (no CDN).
/// </summary>
public sealed class AlertRulesTests(DashboardFixture fixture, ITestOutputHelper output) : IClassFixture<DashboardFixture>
{
    private const int TestTimeout = 120_000;

    static AlertRulesTests() => SetDefaultExpectTimeout(ObservedPage.Timeout);

    [Fact(Timeout = TestTimeout)]
    public Task Rule_CreatedEditedAndDeletedInTheUi_ShowsInTheTableAndTheAuditLog() => WithLogsAsync(async () =>
    {
        string name = $"browser rule {Guid.NewGuid():N}"[..21];
        await using var page = await fixture.OpenPageAsync();
        await page.GoAsync("/alerts/rules");
        await Expect(page.Page.GetByTestId("rules-table")).ToBeVisibleAsync();

        // Create.
        await page.Page.GetByTestId("rule-new").ClickAsync();
        await Expect(page.Page.GetByTestId("rule-dialog")).ToBeVisibleAsync();
        await page.Page.GetByTestId("rule-name").FillAsync(name);
        await page.Page.GetByTestId("rule-threshold").FillAsync("85");
        await page.Page.GetByTestId("rule-recovery").FillAsync("70");
        await page.Page.GetByTestId("rule-for").FillAsync("10");
        await page.Page.GetByTestId("rule-save").ClickAsync();

        var row = page.Page.Locator($"[data-testid=rule-row][data-rule-name='{name}']");
        await Expect(row).ToBeVisibleAsync();
        await Expect(page.Page.GetByTestId("rule-dialog")).ToHaveCountAsync(0);
        await Expect(row).ToHaveAttributeAsync("data-threshold", "85");
        await Expect(row.GetByTestId("rule-condition")).ToHaveTextAsync("over 85%");
        string id = await row.GetAttributeAsync("data-rule-id") ?? throw new InvalidOperationException("the new row has no rule id");
        var created = page.Page.Locator($"[data-testid=audit-row][data-entity-id='{id}'][data-action=created]");
        await Expect(created).ToHaveCountAsync(1);
        await Expect(created).ToHaveAttributeAsync("data-actor", DashboardFixture.UserOf(Web.Data.FleetRoles.Admin));
        await page.ScreenshotAsync("rules-created");

        // Edit the threshold.
        await row.GetByTestId("rule-edit").ClickAsync();
        await Expect(page.Page.GetByTestId("rule-name")).ToHaveValueAsync(name);
        await page.Page.GetByTestId("rule-threshold").FillAsync("90");
        await page.Page.GetByTestId("rule-save").ClickAsync();

        await Expect(row).ToHaveAttributeAsync("data-threshold", "90");
        var updated = page.Page.Locator($"[data-testid=audit-row][data-entity-id='{id}'][data-action=updated]");
        await Expect(updated).ToHaveCountAsync(1);
        await Expect(updated).ToContainTextAsync(new Regex(@"threshold: 85 → 90", RegexOptions.IgnoreCase));
        await page.ScreenshotAsync("rules-edited");

        // Delete, after confirming.
        await row.GetByTestId("rule-delete").ClickAsync();
        await page.Page.GetByTestId("confirm-delete").ClickAsync();

        await Expect(row).ToHaveCountAsync(0);
        await Expect(page.Page.Locator($"[data-testid=audit-row][data-entity-id='{id}'][data-action=deleted]")).ToHaveCountAsync(1);
        await page.ScreenshotAsync("rules-deleted");

        // What the browser showed is what the server keeps: after a reload the rule is gone and its history stays.
        await page.Page.ReloadAsync();
        await page.WaitInteractiveAsync();
        await Expect(page.Page.GetByTestId("rules-table")).ToBeVisibleAsync();
        await Expect(row).ToHaveCountAsync(0);
        await Expect(page.Page.Locator($"[data-testid=audit-row][data-entity-id='{id}']")).ToHaveCountAsync(3);
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task Rule_WithAThresholdOutOfRange_IsRefusedInTheDialog_AndNothingIsSaved() => WithLogsAsync(async () =>
    {
        string name = $"refused rule {Guid.NewGuid():N}"[..21];
        await using var page = await fixture.OpenPageAsync();
        await page.GoAsync("/alerts/rules");
        await Expect(page.Page.GetByTestId("rules-table")).ToBeVisibleAsync();

        await page.Page.GetByTestId("rule-new").ClickAsync();
        await page.Page.GetByTestId("rule-name").FillAsync(name);
        await page.Page.GetByTestId("rule-threshold").FillAsync("150");
        await page.Page.GetByTestId("rule-save").ClickAsync();

        await Expect(page.Page.GetByTestId("rule-errors")).ToContainTextAsync("threshold: between 0 and 100");
        await page.ScreenshotAsync("rule-refused");
        await page.Page.GetByTestId("rule-cancel").ClickAsync();
        await Expect(page.Page.GetByTestId("rule-dialog")).ToHaveCountAsync(0);
        await Expect(page.Page.Locator($"[data-testid=rule-row][data-rule-name='{name}']")).ToHaveCountAsync(0);
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task Channel_CreatedAndDeletedInTheUi_ShowsInTheTableAndTheAuditLog() => WithLogsAsync(async () =>
    {
        string name = $"browser hook {Guid.NewGuid():N}"[..21];
        await using var page = await fixture.OpenPageAsync();
        await page.GoAsync("/alerts/channels");
        await Expect(page.Page.GetByTestId("channels-table")).ToBeVisibleAsync();

        await page.Page.GetByTestId("channel-new").ClickAsync();
        await page.Page.GetByTestId("channel-name").FillAsync(name);
        await page.Page.GetByTestId("channel-url").FillAsync("not a url");
        await page.Page.GetByTestId("channel-save").ClickAsync();
        await Expect(page.Page.GetByTestId("channel-errors")).ToContainTextAsync("url: an absolute http or https URL");
        // Port 9 (discard) on loopback: nothing is delivered while this test runs (no alert is expected to fire).
        await page.Page.GetByTestId("channel-url").FillAsync("http://127.0.0.1:9/fleet-hook");
        await page.Page.GetByTestId("channel-save").ClickAsync();

        var row = page.Page.Locator($"[data-testid=channel-row][data-channel-name='{name}']");
        await Expect(row).ToBeVisibleAsync();
        await page.ScreenshotAsync("channel-created");

        await row.GetByTestId("channel-delete").ClickAsync();
        await page.Page.GetByTestId("confirm-delete").ClickAsync();
        await Expect(row).ToHaveCountAsync(0);

        // Channels are audited with the rules: both changes show on the rules page's log.
        await page.Page.GetByTestId("nav-rules").ClickAsync();
        await Expect(page.Page.Locator($"[data-testid=audit-row][data-entity-name='{name}']")).ToHaveCountAsync(2);
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task NavLinks_OpenTheAlertsAndChannelsPages_WhichLoadWithoutErrors() => WithLogsAsync(async () =>
    {
        await using var page = await fixture.OpenPageAsync();
        await page.GoAsync("/");
        int loads = page.Loads;

        await page.Page.GetByTestId("nav-alerts").ClickAsync();
        await Expect(page.Page).ToHaveURLAsync(new Regex("/alerts$"));
        await Expect(page.Page.GetByTestId("active-alerts")).ToBeVisibleAsync();
        await Expect(page.Page.GetByTestId("alert-history")).ToBeVisibleAsync();
        await page.ScreenshotAsync("alerts");

        await page.Page.GetByTestId("nav-channels").ClickAsync();
        await Expect(page.Page).ToHaveURLAsync(new Regex("/alerts/channels$"));
        await Expect(page.Page.GetByTestId("channels-table")).ToBeVisibleAsync();
        await Expect(page.Page.GetByTestId("deliveries-table")).ToBeVisibleAsync();
        await page.ScreenshotAsync("channels");

        // Blazor's own navigation: the links did not reload the document.
        Assert.Equal(loads, page.Loads);
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task HostPage_LimitsChart_IsDrawnByPlotlyFromScriptsTheServerServes() => WithLogsAsync(async () =>
    {
        var requests = new ConcurrentQueue<string>();
        await using var page = await fixture.OpenPageAsync();
        page.Page.Request += (_, request) => requests.Enqueue(request.Url);
        var plotly = page.Page.WaitForResponseAsync(r => r.Url.Contains("/_content/Plotly.Blazor/plotly-", StringComparison.Ordinal) && r.Url.EndsWith(".min.js", StringComparison.Ordinal),
            new PageWaitForResponseOptions { Timeout = ObservedPage.Timeout });
        // This machine's first snapshot is stored (a fresh server may not have it yet), then its page.
        await page.GoAsync("/");
        await Expect(page.Page.Locator($"[data-testid=host-row][data-host='{fixture.HostName}']")).ToBeVisibleAsync();
        await page.GoAsync($"/hosts/{Uri.EscapeDataString(fixture.HostName)}");

        // plotly.js drew its SVG, with one trace per line, inside the chart's container.
        var chart = page.Page.GetByTestId("limits-chart");
        await Expect(chart.Locator(".js-plotly-plot .main-svg").First).ToBeVisibleAsync();
        await Expect(chart.Locator(".scatterlayer .trace").First).ToBeVisibleAsync();
        var script = await plotly;
        Assert.Equal(200, script.Status);
        Assert.True((await script.BodyAsync()).Length > 100_000, "plotly.js came back (nearly) empty");
        await page.ScreenshotAsync("host-plotly");

        var elsewhere = requests.Where(u => !u.StartsWith(fixture.BaseAddress.ToString(), StringComparison.Ordinal) && !u.StartsWith("data:", StringComparison.Ordinal)).ToList();
        Assert.True(elsewhere.Count == 0, $"the page fetched from elsewhere than the server: {string.Join(", ", elsewhere)}");
        page.AssertNoErrors();
    });

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
