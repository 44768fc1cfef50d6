using Fleet.Web.Components.Account;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using MudBlazor;

namespace Fleet.Web.Tests.Account;

public sealed class AccountPageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task List_ShowsOnlyMyTokensWithTheirState()
    {
        await using var t = AccessContext.Create(FleetRoles.Viewer);
        var me = SignedIn.IdOf(AccessContext.UserName);
        var now = t.Time.GetUtcNow();
        t.Tokens.Add(me, "backup script", lastUsedAt: now.AddHours(-2));
        t.Tokens.Add(me, "old cron", revokedAt: now.AddDays(-1));
        t.Tokens.Add(me, "expired one", expiresAt: now.AddDays(-3));
        t.Tokens.Add("id-bob", "bob's token");

        var cut = t.Ctx.Render<AccountPage>();

        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=token-row]").Count), Wait);
        Assert.DoesNotContain("bob's token", cut.Markup, StringComparison.Ordinal);
        Assert.Equal("active", Row(cut, "backup script").GetAttribute("data-state"));
        Assert.Equal("revoked", Row(cut, "old cron").GetAttribute("data-state"));
        Assert.Equal("expired", Row(cut, "expired one").GetAttribute("data-state"));
        Assert.Contains("never", Row(cut, "backup script").TextContent, StringComparison.Ordinal);
        Assert.Empty(Row(cut, "old cron").QuerySelectorAll("[data-testid=token-revoke]"));
        Assert.Contains("viewer", cut.Find("[data-testid=account-user]").TextContent, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(30)]
    [InlineData(365)]
    [InlineData(0)]
    public async Task Create_ShowsTheSecretOnce_WithTheLifetimeChosen(int days)
    {
        await using var t = AccessContext.Create(FleetRoles.Viewer);
        var cut = t.Ctx.Render<AccountPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-tokens]"), Wait);

        cut.Find("input[data-testid=token-name]").Change("grafana");
        var lifetime = cut.FindComponents<MudSelect<int>>().Single();
        await cut.InvokeAsync(() => lifetime.Instance.ValueChanged.InvokeAsync(days));
        cut.Find("[data-testid=token-create-button]").Click();

        cut.WaitForAssertion(() => Assert.StartsWith("fleet_pat_", cut.Find("[data-testid=secret-value]").TextContent, StringComparison.Ordinal), Wait);
        var listed = Assert.Single(await t.Tokens.ListAsync(SignedIn.IdOf(AccessContext.UserName), CancellationToken.None));
        Assert.Equal(days == 0 ? null : t.Time.GetUtcNow().AddDays(days), listed.ExpiresAt);
        Assert.Equal(("created", "grafana", AccessContext.UserName), Assert.Single(t.Tokens.Changes));

        cut.Find("[data-testid=secret-copy]").Click();
        var copied = Assert.Single(t.Ctx.JSInterop.Invocations, i => i.Identifier == "navigator.clipboard.writeText");
        Assert.Equal([cut.Find("[data-testid=secret-value]").TextContent], copied.Arguments);

        cut.Find("[data-testid=secret-done]").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=secret-once]")), Wait);
    }

    [Fact]
    public async Task Create_WithANameTaken_ShowsTheErrorUnderTheName()
    {
        await using var t = AccessContext.Create(FleetRoles.Viewer);
        t.Tokens.Add(SignedIn.IdOf(AccessContext.UserName), "grafana");
        var cut = t.Ctx.Render<AccountPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=token-row]"), Wait);

        cut.Find("input[data-testid=token-name]").Change("grafana");
        cut.Find("[data-testid=token-create-button]").Click();

        cut.WaitForAssertion(() => Assert.Equal("You have a token named grafana already.",
            cut.Find("input[data-testid=token-name]").Closest(".mud-input-control")?.QuerySelector(".mud-input-helper-text.mud-input-error")?.TextContent.Trim()), Wait);
        Assert.Empty(cut.FindAll("[data-testid=secret-once]"));
    }

    [Fact]
    public async Task Revoke_AfterConfirming_MarksTheTokenRevoked()
    {
        await using var t = AccessContext.Create(FleetRoles.Operator);
        t.Tokens.Add(SignedIn.IdOf(AccessContext.UserName), "grafana");
        var cut = t.Ctx.Render<AccountPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=token-revoke]"), Wait);

        cut.Find("[data-testid=token-revoke]").Click();
        t.Dialogs.WaitForElement("[data-testid=confirm-revoke]", Wait).Click();

        cut.WaitForAssertion(() => Assert.Equal("revoked", Row(cut, "grafana").GetAttribute("data-state")), Wait);
        Assert.Equal(("revoked", "grafana", AccessContext.UserName), Assert.Single(t.Tokens.Changes));
    }

    private static AngleSharp.Dom.IElement Row(IRenderedComponent<AccountPage> cut, string name) =>
        cut.Find($"[data-testid=token-row][data-token-name='{name}']");
}
