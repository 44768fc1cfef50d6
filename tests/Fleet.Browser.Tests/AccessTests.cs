using System.Text.RegularExpressions;
using Fleet.Browser.Tests.Browsing;
using Fleet.Web.Data;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Fleet.Browser.Tests;

/// <summary>
/// Sign-in and roles in a real browser against the real server: the /signin form, what a viewer does not see and
/// may not open, an admin enrolling an agent, signing out.
/// </summary>
public sealed class AccessTests(DashboardFixture fixture, ITestOutputHelper output) : IClassFixture<DashboardFixture>
{
    private const int TestTimeout = 120_000;

    static AccessTests() => SetDefaultExpectTimeout(ObservedPage.Timeout);

    [Fact(Timeout = TestTimeout)]
    public Task Viewer_SeesNoEditButtons_AndAdminPagesSayTheirRoleMayNotSeeThem() => WithLogsAsync(async () =>
    {
        await using var page = await fixture.OpenPageAsync(FleetRoles.Viewer);
        await page.GoAsync("/alerts/rules");

        await Expect(page.Page.GetByTestId("rules-read-only")).ToBeVisibleAsync();
        await Expect(page.Page.GetByTestId("rule-new")).ToHaveCountAsync(0);
        await Expect(page.Page.GetByTestId("rule-edit")).ToHaveCountAsync(0);
        await Expect(page.Page.GetByTestId("user-menu")).ToHaveAttributeAsync("data-role", FleetRoles.Viewer);
        await Expect(page.Page.GetByTestId("nav-users")).ToHaveCountAsync(0);
        await Expect(page.Page.GetByTestId("nav-channels")).ToHaveCountAsync(0);
        await page.ScreenshotAsync("viewer-rules");

        // Inside the running page (the router refuses it) ...
        await page.EvaluateAsync<bool>("() => { Blazor.navigateTo('/admin/users'); return true; }");
        await Expect(page.Page.GetByTestId("access-denied")).ToContainTextAsync("Your role (viewer) may not see this page");
        await Expect(page.Page.GetByTestId("users-table")).ToHaveCountAsync(0);

        // ... and loaded afresh (the server refuses it and sends the browser to the access-denied page).
        await page.Page.GotoAsync("/admin/users");
        await Expect(page.Page).ToHaveURLAsync(new Regex(@"/access-denied\?returnUrl=%2Fadmin%2Fusers$"));
        await Expect(page.Page.GetByTestId("access-denied")).ToContainTextAsync("Your role (viewer) may not see this page");
        await Expect(page.Page.GetByTestId("access-denied-path")).ToHaveTextAsync("/admin/users");
        await Expect(page.Page.GetByTestId("users-table")).ToHaveCountAsync(0);
        await page.ScreenshotAsync("viewer-access-denied");
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task Operator_SeesSnapshotImportButNoRuleEditing() => WithLogsAsync(async () =>
    {
        await using var page = await fixture.OpenPageAsync(FleetRoles.Operator);
        await page.GoAsync("/snapshots");
        await Expect(page.Page.GetByTestId("snapshot-import")).ToBeVisibleAsync();

        await page.GoAsync("/alerts/rules");
        await Expect(page.Page.GetByTestId("rules-read-only")).ToBeVisibleAsync();
        await Expect(page.Page.GetByTestId("rule-new")).ToHaveCountAsync(0);
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task Admin_CreatesAnEnrollmentToken_AndSeesItOnlyOnce() => WithLogsAsync(async () =>
    {
        await using var page = await fixture.OpenPageAsync(FleetRoles.Admin);
        await page.GoAsync("/admin/agents");
        await Expect(page.Page.GetByTestId("enrollment-tokens")).ToBeVisibleAsync();
        string name = $"browser-hosts-{Guid.NewGuid():N}"[..22];

        await page.Page.Locator("input[data-testid=enroll-name]").FillAsync(name);
        await page.Page.GetByTestId("enroll-create").ClickAsync();

        var secret = page.Page.GetByTestId("secret-value");
        await Expect(secret).ToBeVisibleAsync();
        string token = (await secret.TextContentAsync())?.Trim() ?? "";
        Assert.True(token.Length >= 32, $"the token shown is too short to be 32 random bytes: '{token}'");
        await Expect(page.Page.GetByTestId("enroll-command")).ToContainTextAsync("fleet-agent run --server ");
        await Expect(page.Page.GetByTestId("enroll-command")).ToContainTextAsync("--token-file /etc/fleet/agent.token");
        await Expect(page.Page.GetByTestId("enroll-write-token")).ToContainTextAsync(token);
        var row = page.Page.Locator($"[data-testid=enrollment-row][data-token-name='{name}']");
        await Expect(row).ToHaveAttributeAsync("data-revoked", "false");
        await Expect(row).ToContainTextAsync(DashboardFixture.UserOf(FleetRoles.Admin));
        await page.ScreenshotAsync("admin-enrollment-token");

        // Shown once: a fresh load lists the token, never its secret.
        await page.GoAsync("/admin/agents");
        await Expect(page.Page.Locator($"[data-testid=enrollment-row][data-token-name='{name}']")).ToHaveCountAsync(1);
        await Expect(page.Page.GetByTestId("secret-once")).ToHaveCountAsync(0);
        Assert.DoesNotContain(token, await page.Page.ContentAsync(), StringComparison.Ordinal);
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task SignIn_WrongPasswordThenRight_GoesBackToThePageAsked_AndSignOutReturnsToSignIn() => WithLogsAsync(async () =>
    {
        string user = DashboardFixture.UserOf(FleetRoles.Operator);
        await using var page = await fixture.OpenPageAsync(role: null);

        await page.Page.GotoAsync("/alerts");
        await Expect(page.Page).ToHaveURLAsync(new Regex(@"/signin\?returnUrl=%2Falerts$"));
        await page.SignInAsync(user, "not the password");
        await Expect(page.Page.GetByTestId("signin-error")).ToHaveTextAsync("Wrong user name or password.");
        await page.ScreenshotAsync("signin-refused");

        await page.SignInAsync(user, DashboardFixture.Password);
        await Expect(page.Page).ToHaveURLAsync(new Regex(@"/alerts$"));
        await page.WaitInteractiveAsync();
        await Expect(page.Page.GetByTestId("user-menu")).ToHaveAttributeAsync("data-user", user);

        await page.Page.Locator("[data-testid=user-menu] button").First.ClickAsync();
        await page.Page.GetByTestId("signout").ClickAsync();
        await Expect(page.Page).ToHaveURLAsync(new Regex(@"/signin$"));
        await Expect(page.Page.GetByTestId("signin-form")).ToBeVisibleAsync();

        await page.Page.GotoAsync("/");
        await Expect(page.Page).ToHaveURLAsync(new Regex(@"/signin(\?returnUrl=%2F)?$"));
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task Admin_CreatesAnOperator_WhoThenSignsInWithThatRole() => WithLogsAsync(async () =>
    {
        string name = $"op-{Guid.NewGuid():N}"[..12];
        await using (var admin = await fixture.OpenPageAsync(FleetRoles.Admin))
        {
            await admin.GoAsync("/admin/users");
            await admin.Page.Locator("input[data-testid=user-name]").FillAsync(name);
            await admin.Page.Locator("input[data-testid=user-password]").FillAsync("short");
            await admin.Page.GetByTestId("user-create-button").ClickAsync();
            // The server's password rule, under the password field; nobody is created.
            await Expect(admin.Page.Locator(".mud-input-control").Filter(new() { Has = admin.Page.Locator("input[data-testid=user-password]") }))
                .ToContainTextAsync("at least 12");
            await Expect(admin.Page.Locator($"[data-testid=user-row][data-user-name='{name}']")).ToHaveCountAsync(0);

            await admin.Page.Locator("input[data-testid=user-password]").FillAsync(DashboardFixture.Password);
            await admin.Page.Locator("[data-testid=user-role]").ClickAsync();
            await admin.Page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = FleetRoles.Operator }).First.ClickAsync();
            // The choice has reached the circuit (the button carries the form's role) before the form is sent.
            await Expect(admin.Page.GetByTestId("user-create-button")).ToHaveAttributeAsync("data-role", FleetRoles.Operator);
            await admin.Page.GetByTestId("user-create-button").ClickAsync();
            await Expect(admin.Page.Locator($"[data-testid=user-row][data-user-name='{name}']")).ToHaveAttributeAsync("data-role", FleetRoles.Operator);
            // The refused attempt's error is gone with it.
            await Expect(admin.Page.Locator("[data-testid=user-create] .mud-input-error")).ToHaveCountAsync(0);
            await admin.ScreenshotAsync("admin-users");
            admin.AssertNoErrors();
        }

        await using var page = await fixture.OpenPageAsync(role: null);
        await page.SignInAsync(name, DashboardFixture.Password);
        await page.WaitInteractiveAsync();
        await Expect(page.Page.GetByTestId("user-menu")).ToHaveAttributeAsync("data-role", FleetRoles.Operator);
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task ApiToken_CreatedOnTheAccountPage_OpensTheApiOnce_AndRevokedNoLonger() => WithLogsAsync(async () =>
    {
        await using var page = await fixture.OpenPageAsync(FleetRoles.Viewer);
        await page.GoAsync("/account");
        string name = $"script-{Guid.NewGuid():N}"[..15];

        await page.Page.Locator("input[data-testid=token-name]").FillAsync(name);
        await page.Page.GetByTestId("token-create-button").ClickAsync();
        var secret = page.Page.GetByTestId("secret-value");
        await Expect(secret).ToBeVisibleAsync();
        string token = (await secret.TextContentAsync())?.Trim() ?? "";
        await page.ScreenshotAsync("account-token-created");

        using var api = new HttpClient { BaseAddress = fixture.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using (var allowed = await api.GetAsync("api/hosts"))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, allowed.StatusCode);
        }

        var row = page.Page.Locator($"[data-testid=token-row][data-token-name='{name}']");
        await row.GetByTestId("token-revoke").ClickAsync();
        await page.Page.GetByTestId("confirm-revoke").ClickAsync();
        await Expect(row).ToHaveAttributeAsync("data-state", "revoked");
        using (var refused = await api.GetAsync("api/hosts"))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        }
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
