using System.Text.RegularExpressions;
using Fleet.Browser.Tests.Browsing;
using Fleet.Web.Data;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Fleet.Browser.Tests;

/// <summary>The first run: the server logs a one-time setup link; its page creates the first administrator and signs them in.</summary>
public sealed partial class SetupTests(FirstRunFixture fixture, ITestOutputHelper output) : IClassFixture<FirstRunFixture>
{
    private const int TestTimeout = 120_000;

    static SetupTests() => SetDefaultExpectTimeout(ObservedPage.Timeout);

    [Fact(Timeout = TestTimeout)]
    public async Task SetupLink_CreatesTheFirstAdministrator_OnceOnly()
    {
        try
        {
            string link = await SetupLinkAsync();
            await using var page = await fixture.OpenPageAsync(role: null);
            await page.Page.GotoAsync(link);
            await Expect(page.Page.GetByTestId("setup-form")).ToBeVisibleAsync();
            await page.ScreenshotAsync("setup");

            // Two different passwords: refused, nothing created, the page says why.
            await FillAsync(page, "first-admin", DashboardFixture.Password, DashboardFixture.Password + "x");
            await Expect(page.Page.GetByTestId("setup-error")).ToContainTextAsync("differ");

            await FillAsync(page, "first-admin", DashboardFixture.Password, DashboardFixture.Password);
            await Expect(page.Page).ToHaveURLAsync(new Regex(@"/$"));
            await page.WaitInteractiveAsync();
            await Expect(page.Page.GetByTestId("user-menu")).ToHaveAttributeAsync("data-role", FleetRoles.Admin);
            await Expect(page.Page.GetByTestId("user-menu")).ToHaveAttributeAsync("data-user", "first-admin");
            await Expect(page.Page.GetByTestId("nav-users")).ToBeVisibleAsync();

            // Used: the same link creates nobody else.
            await using var again = await fixture.OpenPageAsync(role: null);
            await again.Page.GotoAsync(link);
            await FillAsync(again, "second-admin", DashboardFixture.Password, DashboardFixture.Password);
            await Expect(again.Page.GetByTestId("setup-error")).ToContainTextAsync("This setup link is not valid");
            await Expect(again.Page.GetByTestId("user-menu")).ToHaveCountAsync(0);
            Assert.DoesNotContain("second-admin", await again.Page.ContentAsync(), StringComparison.Ordinal);
            page.AssertNoErrors();
        }
        catch
        {
            fixture.WriteLogsTo(output);
            throw;
        }
    }

    private static async Task FillAsync(ObservedPage page, string userName, string password, string confirm)
    {
        await page.Page.FillAsync("[data-testid=field-userName]", userName);
        await page.Page.FillAsync("[data-testid=field-password]", password);
        await page.Page.FillAsync("[data-testid=field-confirmPassword]", confirm);
        await page.Page.ClickAsync("[data-testid=setup-submit]");
        await page.Page.WaitForLoadStateAsync(Microsoft.Playwright.LoadState.Load);
    }

    /// <summary>The link the server logged on start (it logs it once it found no user), waited for with a deadline.</summary>
    private async Task<string> SetupLinkAsync()
    {
        var deadline = DateTime.UtcNow + DashboardFixture.Deadline;
        while (DateTime.UtcNow < deadline)
        {
            var logged = fixture.Logs.Entries.Select(e => SetupLink().Match(e.Message)).FirstOrDefault(m => m.Success);
            if (logged is not null)
            {
                return logged.Groups[1].Value;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
        throw new TimeoutException($"the server logged no setup link within {DashboardFixture.Deadline.TotalSeconds} s");
    }

    [GeneratedRegex(@"https?://[^\s]+?(/setup/[A-Za-z0-9_\-]+)")]
    private static partial Regex SetupLink();
}
