using Fleet.Web.Components.Alerts;
using Fleet.Web.Components.Layout;
using Fleet.Web.Components.Pages;
using Fleet.Web.Components.Snapshots;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using Fleet.Web.Tests.Snapshots;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Fleet.Web.Tests.Account;

/// <summary>Each role sees the buttons of what it may do, and only those; a handler refuses what the role may not do.</summary>
public sealed class RoleHidingTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(FleetRoles.Viewer, false)]
    [InlineData(FleetRoles.Operator, false)]
    [InlineData(FleetRoles.Admin, true)]
    public async Task AlertRules_OnlyAnAdminSeesNewEditAndDelete(string role, bool sees)
    {
        await using var t = AlertsContext.Create();
        t.Ctx.SignInAs(role);
        t.Rules.Add(ProjectionSamples.Rule("fds high"));

        var cut = t.Ctx.Render<AlertRulesPage>();

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=rule-row]")), Wait);
        Assert.Equal(sees, cut.FindAll("[data-testid=rule-new]").Count == 1);
        Assert.Equal(sees, cut.FindAll("[data-testid=rule-edit]").Count == 1);
        Assert.Equal(sees, cut.FindAll("[data-testid=rule-delete]").Count == 1);
        Assert.Equal(!sees, cut.FindAll("[data-testid=rules-read-only]").Count == 1);
    }

    [Fact]
    public async Task AlertRules_RoleTakenAwayWhileOpen_HidesTheButtons()
    {
        await using var t = AlertsContext.Create();
        t.Rules.Add(ProjectionSamples.Rule("fds high"));
        var cut = t.Ctx.Render<AlertRulesPage>();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=rule-edit]")), Wait);

        await cut.InvokeAsync(() => t.Ctx.SignInAs(FleetRoles.Viewer, AlertsContext.ActorName));

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=rule-edit]")), Wait);
        Assert.Empty(cut.FindAll("[data-testid=rule-new]"));
    }

    [Fact]
    public async Task RuleDialog_SavedByAViewer_IsRefusedWithTheRoleAndCallsNoPort()
    {
        await using var t = AlertsContext.Create();
        t.Ctx.SignInAs(FleetRoles.Viewer, "victor");
        var dialogs = t.Ctx.Services.GetRequiredService<IDialogService>();

        await t.Dialogs.InvokeAsync(() => dialogs.ShowAsync<RuleDialog>("New alert rule"));
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=rule-dialog]"), Wait);
        t.Dialogs.Find("input[data-testid=rule-name]").Change("sneaky");
        t.Dialogs.Find("[data-testid=rule-save]").Click();

        t.Dialogs.WaitForAssertion(() => Assert.Equal(["Your role (viewer) may not change alert rules: admins only."],
            t.Dialogs.FindAll("[data-testid=rule-error]").Select(e => e.TextContent.Trim())), Wait);
        Assert.Empty(t.Rules.Calls);
    }

    [Fact]
    public async Task ChannelDialog_SavedByAnOperator_IsRefused()
    {
        await using var t = AlertsContext.Create();
        t.Ctx.SignInAs(FleetRoles.Operator, "olga");
        var dialogs = t.Ctx.Services.GetRequiredService<IDialogService>();

        await t.Dialogs.InvokeAsync(() => dialogs.ShowAsync<ChannelDialog>("New channel"));
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=channel-save]"), Wait);
        t.Dialogs.Find("input[data-testid=channel-name]").Change("ops");
        t.Dialogs.Find("input[data-testid=channel-url]").Change("https://hooks.example.test/x");
        t.Dialogs.Find("[data-testid=channel-save]").Click();

        t.Dialogs.WaitForAssertion(() => Assert.Contains("Your role (operator) may not change notification channels: admins only.", t.Dialogs.Markup, StringComparison.Ordinal), Wait);
        Assert.Empty(await t.Channels.ListAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData(FleetRoles.Viewer, false)]
    [InlineData(FleetRoles.Operator, true)]
    [InlineData(FleetRoles.Admin, true)]
    public async Task ExportSnapshot_OnlyOperatorsAndAdminsSeeIt(string role, bool sees)
    {
        await using var t = SnapshotContext.Create();
        t.Ctx.SignInAs(role);

        var cut = t.Ctx.Render<ExportSnapshotButton>(p => p
            .Add(b => b.Origin, SnapshotOrigin.Host)
            .Add(b => b.Hosts, ["web-1"])
            .Add(b => b.Window, new TimeWindow(SnapshotSamples.From, SnapshotSamples.To, false, "custom")));

        cut.WaitForAssertion(() => Assert.Equal(sees, cut.FindAll("[data-testid=export-snapshot]").Count == 1), Wait);
    }

    [Theory]
    [InlineData(FleetRoles.Viewer, false)]
    [InlineData(FleetRoles.Operator, true)]
    [InlineData(FleetRoles.Admin, true)]
    public async Task Snapshots_OnlyOperatorsAndAdminsSeeImportRenameAndDelete_EveryoneDownloads(string role, bool sees)
    {
        await using var t = SnapshotContext.Create();
        t.Ctx.SignInAs(role);
        t.Snapshots.Add(SnapshotSamples.Snapshot(3, "api leak", [SnapshotSamples.Host("web-1", 700)]));

        var cut = t.Ctx.Render<SnapshotsPage>();

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=snapshot-download]")), Wait);
        Assert.Equal(sees, cut.FindAll("[data-testid=snapshot-import]").Count == 1);
        Assert.Equal(sees, cut.FindAll("[data-testid=snapshot-rename]").Count == 1);
        Assert.Equal(sees, cut.FindAll("[data-testid=snapshot-delete]").Count == 1);
    }

    [Fact]
    public async Task RenameSnapshot_SavedByAViewer_IsRefusedAndRenamesNothing()
    {
        await using var t = SnapshotContext.Create();
        t.Ctx.SignInAs(FleetRoles.Viewer, "victor");
        var snapshot = t.Snapshots.Add(SnapshotSamples.Snapshot(3, "api leak", [SnapshotSamples.Host("web-1", 700)]));
        var dialogs = t.Ctx.Services.GetRequiredService<IDialogService>();

        await t.Dialogs.InvokeAsync(() => dialogs.ShowAsync<RenameSnapshotDialog>("Rename", new DialogParameters<RenameSnapshotDialog> { { d => d.Snapshot, snapshot.Info } }));
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=rename-save]"), Wait);
        t.Dialogs.Find("input[data-testid=rename-title]").Change("renamed");
        t.Dialogs.Find("[data-testid=rename-save]").Click();

        t.Dialogs.WaitForAssertion(() => Assert.Contains("Your role (viewer) may not rename snapshots: operators and admins only.", t.Dialogs.Markup, StringComparison.Ordinal), Wait);
        Assert.Empty(t.Snapshots.Renamed);
    }

    [Theory]
    [InlineData(FleetRoles.Viewer, false)]
    [InlineData(FleetRoles.Operator, false)]
    [InlineData(FleetRoles.Admin, true)]
    public async Task Nav_ChannelsUsersAndAgentsOnlyForAdmins(string role, bool sees)
    {
        await using var ctx = DashboardContext.Create(new FakeDashboardData(), new FakeLiveFeed());
        ctx.Services.AddSingleton<AntiforgeryStateProvider>(new FakeAntiforgery());
        ctx.SignInAs(role, "pat");

        var cut = ctx.Render<MainLayout>();

        cut.WaitForAssertion(() => Assert.Equal("pat", cut.Find("[data-testid=user-menu]").GetAttribute("data-user")), Wait);
        Assert.Equal(role, cut.Find("[data-testid=user-menu]").GetAttribute("data-role"));
        Assert.Contains($"pat · {role}", cut.Find("[data-testid=user-menu]").TextContent, StringComparison.Ordinal);
        Assert.NotEmpty(cut.FindAll("[data-testid=nav-rules]"));
        foreach (var admin in new[] { "nav-channels", "nav-users", "nav-agents" })
        {
            Assert.Equal(sees, cut.FindAll($"[data-testid={admin}]").Count == 1);
        }
    }

    [Fact]
    public async Task UserMenu_SignsOutWithAFormPostCarryingTheAntiforgeryToken()
    {
        await using var ctx = DashboardContext.Create(new FakeDashboardData(), new FakeLiveFeed());
        ctx.Services.AddSingleton<AntiforgeryStateProvider>(new FakeAntiforgery());
        var cut = ctx.Render<MainLayout>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=user-menu]"), Wait);

        cut.Find("[data-testid=user-menu] button").Click();

        var form = cut.WaitForElement("[data-testid=signout-form]", Wait);
        Assert.Equal("post", form.GetAttribute("method"));
        Assert.Equal(AccountRoutes.SignOutPost, form.GetAttribute("action"));
        Assert.Equal(FakeAntiforgery.Token, form.QuerySelector($"input[name={FakeAntiforgery.FieldName}]")?.GetAttribute("value"));
        Assert.Equal("/account", cut.Find("[data-testid=menu-account]").GetAttribute("href"));
    }

    [Fact]
    public async Task PolicyCheck_NotSignedIn_Refuses()
    {
        await using var ctx = new BunitContext();
        ctx.SignOut();
        var authorization = ctx.Services.GetRequiredService<Microsoft.AspNetCore.Authorization.IAuthorizationService>();
        var state = ctx.Services.GetRequiredService<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider>().GetAuthenticationStateAsync();

        Assert.Equal("Not signed in: sign in to export snapshots.",
            await Fleet.Web.Components.Account.PolicyCheck.RefusalAsync(authorization, state, FleetPolicies.Operate, "export snapshots"));
        Assert.Equal("Not signed in: nobody may export snapshots.",
            await Fleet.Web.Components.Account.PolicyCheck.RefusalAsync(authorization, null, FleetPolicies.Operate, "export snapshots"));
    }
}
