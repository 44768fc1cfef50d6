using Fleet.Web.Components.Admin;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using MudBlazor;

namespace Fleet.Web.Tests.Admin;

public sealed class UsersPageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task List_ShowsRoleSourceAndState()
    {
        await using var t = AccessContext.Create();
        t.Users.Add("alice", FleetRoles.Admin);
        t.Users.Add("bob", FleetRoles.Viewer, disabled: true);
        t.Users.Add("carol", FleetRoles.Operator, source: "Corp SSO", lockedOut: true);

        var cut = t.Ctx.Render<UsersPage>();

        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=user-row]").Count), Wait);
        var bob = Row(cut, "bob");
        Assert.Equal(FleetRoles.Viewer, bob.GetAttribute("data-role"));
        Assert.NotNull(bob.QuerySelector("[data-testid=user-disabled]"));
        var carol = Row(cut, "carol");
        Assert.Contains("Corp SSO", carol.TextContent, StringComparison.Ordinal);
        Assert.NotNull(carol.QuerySelector("[data-testid=user-locked]"));
        // Someone signing in elsewhere has no password here to reset.
        Assert.Null(carol.QuerySelector("[data-testid=user-password-reset]"));
        Assert.NotNull(bob.QuerySelector("[data-testid=user-password-reset]"));
    }

    [Fact]
    public async Task Create_WithAWeakPasswordAndATakenName_ShowsEachErrorUnderItsField()
    {
        await using var t = AccessContext.Create();
        t.Users.Add("bob", FleetRoles.Viewer);
        var cut = t.Ctx.Render<UsersPage>();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=user-row]")), Wait);

        cut.Find("input[data-testid=user-name]").Change("bob");
        cut.Find("input[data-testid=user-password]").Change("short");
        cut.Find("[data-testid=user-create-button]").Click();

        cut.WaitForAssertion(() =>
        {
            Assert.Equal("The name bob is taken.", FieldError(cut, "user-name"));
            Assert.Equal($"Passwords must be at least {FakeUserAdmin.MinPasswordLength} characters.", FieldError(cut, "user-password"));
        }, Wait);
        Assert.Single(cut.FindAll("[data-testid=user-row]"));
    }

    [Fact]
    public async Task Create_WithAGoodPassword_ListsTheUserWithTheRoleChosen_AndRecordsTheActor()
    {
        await using var t = AccessContext.Create();
        var cut = t.Ctx.Render<UsersPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=users-table]"), Wait);

        cut.Find("input[data-testid=user-name]").Change("dave");
        cut.Find("input[data-testid=user-password]").Change("correct horse battery");
        var role = cut.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "Role");
        await cut.InvokeAsync(() => role.Instance.ValueChanged.InvokeAsync(FleetRoles.Operator));
        cut.Find("[data-testid=user-create-button]").Click();

        cut.WaitForAssertion(() => Assert.Equal(FleetRoles.Operator, Row(cut, "dave").GetAttribute("data-role")), Wait);
        Assert.Equal(("created", "dave", AccessContext.UserName), Assert.Single(t.Users.Changes));
        Assert.Equal("correct horse battery", t.Users.Passwords[t.Users.Find("dave")!.Id]);
    }

    [Fact]
    public async Task ChangeRole_CallsThePortAndShowsTheNewRole()
    {
        await using var t = AccessContext.Create();
        t.Users.Add("alice", FleetRoles.Admin);
        var bob = t.Users.Add("bob", FleetRoles.Viewer);
        var cut = t.Ctx.Render<UsersPage>();
        cut.WaitForAssertion(() => Row(cut, "bob"), Wait);

        // The rows' role pickers, in the order of the rows (alice, bob).
        var select = cut.FindComponents<MudSelect<string>>().Where(s => s.Instance.Label is null).ElementAt(1);
        await cut.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(FleetRoles.Operator));

        cut.WaitForAssertion(() => Assert.Equal(FleetRoles.Operator, Row(cut, "bob").GetAttribute("data-role")), Wait);
        Assert.Equal(FleetRoles.Operator, t.Users.Find("bob")!.Role);
        Assert.Contains(("role", "bob", AccessContext.UserName), t.Users.Changes);
        Assert.Equal(bob.Id, t.Users.Find("bob")!.Id);
    }

    [Fact]
    public async Task DisablingTheLastAdmin_ShowsTheServersRefusal()
    {
        await using var t = AccessContext.Create();
        t.Users.Add("alice", FleetRoles.Admin);
        var cut = t.Ctx.Render<UsersPage>();
        cut.WaitForAssertion(() => Row(cut, "alice"), Wait);

        Row(cut, "alice").QuerySelector("[data-testid=user-toggle]")!.Click();
        t.Dialogs.WaitForElement("[data-testid=confirm-disable]", Wait).Click();

        cut.WaitForAssertion(() => Assert.Contains("The last enabled admin cannot be disabled.", cut.Find("[data-testid=action-error]").TextContent, StringComparison.Ordinal), Wait);
        Assert.False(t.Users.Find("alice")!.Disabled);
    }

    [Fact]
    public async Task Disable_AfterConfirming_MarksTheUserDisabled()
    {
        await using var t = AccessContext.Create();
        t.Users.Add("alice", FleetRoles.Admin);
        t.Users.Add("bob", FleetRoles.Viewer);
        var cut = t.Ctx.Render<UsersPage>();
        cut.WaitForAssertion(() => Row(cut, "bob"), Wait);

        Row(cut, "bob").QuerySelector("[data-testid=user-toggle]")!.Click();
        t.Dialogs.WaitForElement("[data-testid=confirm-disable]", Wait).Click();

        cut.WaitForAssertion(() => Assert.Equal("true", Row(cut, "bob").GetAttribute("data-disabled")), Wait);
        Assert.Equal("Enable", Row(cut, "bob").QuerySelector("[data-testid=user-toggle]")!.TextContent.Trim());
    }

    [Fact]
    public async Task Delete_AfterConfirming_RemovesTheUser_AndCancelKeepsIt()
    {
        await using var t = AccessContext.Create();
        t.Users.Add("alice", FleetRoles.Admin);
        t.Users.Add("bob", FleetRoles.Viewer);
        var cut = t.Ctx.Render<UsersPage>();
        cut.WaitForAssertion(() => Row(cut, "bob"), Wait);

        Row(cut, "bob").QuerySelector("[data-testid=user-delete]")!.Click();
        t.Dialogs.WaitForElement("[data-testid=confirm-cancel]", Wait).Click();
        cut.WaitForAssertion(() => Assert.Empty(t.Dialogs.FindAll("[data-testid=confirm-cancel]")), Wait);
        Assert.NotNull(t.Users.Find("bob"));

        Row(cut, "bob").QuerySelector("[data-testid=user-delete]")!.Click();
        t.Dialogs.WaitForElement("[data-testid=confirm-delete]", Wait).Click();

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=user-row]")), Wait);
        Assert.Null(t.Users.Find("bob"));
    }

    [Fact]
    public async Task ResetPassword_TooShort_ShowsTheErrorUnderTheField_ThenAGoodOneIsSet()
    {
        await using var t = AccessContext.Create();
        t.Users.Add("alice", FleetRoles.Admin);
        var bob = t.Users.Add("bob", FleetRoles.Viewer);
        var cut = t.Ctx.Render<UsersPage>();
        cut.WaitForAssertion(() => Row(cut, "bob"), Wait);

        Row(cut, "bob").QuerySelector("[data-testid=user-password-reset]")!.Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=password-dialog]"), Wait);
        t.Dialogs.Find("input[data-testid=password-new]").Change("short");
        t.Dialogs.Find("input[data-testid=password-confirm]").Change("short");
        t.Dialogs.Find("[data-testid=password-save]").Click();

        t.Dialogs.WaitForAssertion(() => Assert.Contains($"Passwords must be at least {FakeUserAdmin.MinPasswordLength} characters.", t.Dialogs.Markup, StringComparison.Ordinal), Wait);
        Assert.False(t.Users.Passwords.ContainsKey(bob.Id));

        t.Dialogs.Find("input[data-testid=password-new]").Change("a much longer one");
        t.Dialogs.Find("input[data-testid=password-confirm]").Change("a much longer one");
        t.Dialogs.Find("[data-testid=password-save]").Click();

        cut.WaitForAssertion(() => Assert.Contains("bob has a new password.", cut.Find("[data-testid=action-done]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Equal("a much longer one", t.Users.Passwords[bob.Id]);
    }

    [Fact]
    public async Task ResetPassword_WithTwoDifferentPasswords_SaysSoAndSetsNothing()
    {
        await using var t = AccessContext.Create();
        var bob = t.Users.Add("bob", FleetRoles.Viewer);
        var cut = t.Ctx.Render<UsersPage>();
        cut.WaitForAssertion(() => Row(cut, "bob"), Wait);

        Row(cut, "bob").QuerySelector("[data-testid=user-password-reset]")!.Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=password-dialog]"), Wait);
        t.Dialogs.Find("input[data-testid=password-new]").Change("a much longer one");
        t.Dialogs.Find("input[data-testid=password-confirm]").Change("a much longer two");
        t.Dialogs.Find("[data-testid=password-save]").Click();

        t.Dialogs.WaitForAssertion(() => Assert.Contains("The two passwords differ.", t.Dialogs.Markup, StringComparison.Ordinal), Wait);
        Assert.False(t.Users.Passwords.ContainsKey(bob.Id));
    }

    /// <summary>The error MudBlazor shows under a field (its helper text in the error colour).</summary>
    private static string? FieldError(IRenderedComponent<UsersPage> cut, string testId) =>
        cut.Find($"input[data-testid={testId}]").Closest(".mud-input-control")?.QuerySelector(".mud-input-helper-text.mud-input-error")?.TextContent.Trim();

    private static AngleSharp.Dom.IElement Row(IRenderedComponent<UsersPage> cut, string userName) =>
        cut.Find($"[data-testid=user-row][data-user-name='{userName}']");
}
