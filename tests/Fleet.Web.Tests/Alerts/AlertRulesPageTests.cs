using Fleet.Web.Components.Pages;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;

namespace Fleet.Web.Tests.Alerts;

public sealed class AlertRulesPageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Save_WithAnEmptyNameAndAThresholdOutOfRange_ShowsEachErrorAndCallsNoPort()
    {
        await using var t = AlertsContext.Create();
        var cut = t.Ctx.Render<AlertRulesPage>();

        cut.Find("[data-testid=rule-new]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=rule-dialog]"), Wait);
        t.Dialogs.Find("input[data-testid=rule-threshold]").Change("150");
        t.Dialogs.Find("[data-testid=rule-save]").Click();

        t.Dialogs.WaitForAssertion(() =>
        {
            var errors = t.Dialogs.FindAll("[data-testid=rule-errors] [data-testid=rule-error]").Select(e => e.TextContent.Trim()).ToList();
            Assert.Contains("name: required", errors);
            Assert.Contains(errors, e => e.StartsWith("threshold: between 0 and 100", StringComparison.Ordinal));
        }, Wait);
        Assert.Empty(t.Rules.Calls);
        Assert.NotNull(t.Dialogs.Find("[data-testid=rule-dialog]"));
    }

    [Fact]
    public async Task Save_WithARecoveryAboveTheThreshold_SaysTheRecoveryMustBeBelowIt()
    {
        await using var t = AlertsContext.Create();
        var cut = t.Ctx.Render<AlertRulesPage>();

        cut.Find("[data-testid=rule-new]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=rule-dialog]"), Wait);
        t.Dialogs.Find("input[data-testid=rule-name]").Change("fds high");
        t.Dialogs.Find("input[data-testid=rule-threshold]").Change("80");
        t.Dialogs.Find("input[data-testid=rule-recovery]").Change("90");
        t.Dialogs.Find("[data-testid=rule-save]").Click();

        t.Dialogs.WaitForAssertion(() =>
            Assert.Equal(["recovery: at or below the threshold"], t.Dialogs.FindAll("[data-testid=rule-error]").Select(e => e.TextContent.Trim())), Wait);
        Assert.Empty(t.Rules.Calls);
    }

    [Fact]
    public async Task Save_WhenTheServerRefuses_ShowsItsErrorsAndKeepsTheDialogOpen()
    {
        await using var t = AlertsContext.Create();
        t.Rules.ServerErrors = ["name: a rule with this name exists"];
        var cut = t.Ctx.Render<AlertRulesPage>();

        cut.Find("[data-testid=rule-new]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=rule-dialog]"), Wait);
        t.Dialogs.Find("input[data-testid=rule-name]").Change("fds high");
        t.Dialogs.Find("[data-testid=rule-save]").Click();

        t.Dialogs.WaitForAssertion(() =>
            Assert.Equal(["name: a rule with this name exists"], t.Dialogs.FindAll("[data-testid=rule-error]").Select(e => e.TextContent.Trim())), Wait);
        Assert.Equal("fds high", t.Dialogs.Find("input[data-testid=rule-name]").GetAttribute("value"));
    }

    [Fact]
    public async Task Create_CallsThePortWithTheDraftAndTheActor_AndListsTheNewRule()
    {
        await using var t = AlertsContext.Create();
        var cut = t.Ctx.Render<AlertRulesPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-rules]"), Wait);

        cut.Find("[data-testid=rule-new]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=rule-dialog]"), Wait);
        t.Dialogs.Find("input[data-testid=rule-name]").Change("fds high");
        t.Dialogs.Find("input[data-testid=rule-threshold]").Change("85");
        t.Dialogs.Find("input[data-testid=rule-recovery]").Change("70");
        t.Dialogs.Find("input[data-testid=rule-for]").Change("10");
        t.Dialogs.Find("[data-testid=rule-save]").Click();

        cut.WaitForAssertion(() => Assert.Equal("fds high", cut.Find("[data-testid=rule-row]").GetAttribute("data-rule-name")), Wait);
        var call = Assert.Single(t.Rules.Calls);
        Assert.Equal("create", call.Action);
        Assert.Equal(AlertsContext.ActorName, call.Actor);
        Assert.Equal(new AlertRuleDraft("fds high", AlertMetric.ServiceFdPercent, AlertScopeKind.Fleet, null, null, 85, 70, TimeSpan.FromMinutes(10), AlertSeverity.Warning, true), call.Draft);
        t.Dialogs.WaitForAssertion(() => Assert.Empty(t.Dialogs.FindAll("[data-testid=rule-dialog]")), Wait);
    }

    [Fact]
    public async Task Edit_CallsUpdateWithTheRulesIdTheNewThresholdAndTheActor()
    {
        await using var t = AlertsContext.Create();
        var kept = t.Rules.Add(ProjectionSamples.Rule("close-wait", 50));
        var edited = t.Rules.Add(ProjectionSamples.Rule("fds high", 80));
        var cut = t.Ctx.Render<AlertRulesPage>();

        cut.WaitForAssertion(() => cut.Find($"[data-testid=rule-row][data-rule-id='{edited.Id}'] [data-testid=rule-edit]").Click(), Wait);
        t.Dialogs.WaitForAssertion(() => Assert.Equal("fds high", t.Dialogs.Find("input[data-testid=rule-name]").GetAttribute("value")), Wait);
        t.Dialogs.Find("input[data-testid=rule-threshold]").Change("90");
        t.Dialogs.Find("[data-testid=rule-save]").Click();

        cut.WaitForAssertion(() => Assert.Equal("90", cut.Find($"[data-testid=rule-row][data-rule-id='{edited.Id}']").GetAttribute("data-threshold")), Wait);
        var call = Assert.Single(t.Rules.Calls);
        Assert.Equal(("update", (long?)edited.Id, AlertsContext.ActorName), (call.Action, call.Id, call.Actor));
        Assert.Equal(edited.Draft with { Threshold = 90 }, call.Draft);
        Assert.Equal("50", cut.Find($"[data-testid=rule-row][data-rule-id='{kept.Id}']").GetAttribute("data-threshold"));
    }

    [Fact]
    public async Task Delete_AfterConfirming_CallsThePortWithTheActor_AndDropsTheRow()
    {
        await using var t = AlertsContext.Create();
        var rule = t.Rules.Add(ProjectionSamples.Rule("fds high"));
        var cut = t.Ctx.Render<AlertRulesPage>();

        cut.WaitForAssertion(() => cut.Find("[data-testid=rule-delete]").Click(), Wait);
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=confirm-delete]").Click(), Wait);

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=rule-row]")), Wait);
        Assert.Equal(("delete", (long?)rule.Id, AlertsContext.ActorName), Assert.Single(t.Rules.Calls) is var c ? (c.Action, c.Id, c.Actor) : default);
    }

    [Fact]
    public async Task Delete_Cancelled_CallsNothing_AndKeepsTheRow()
    {
        await using var t = AlertsContext.Create();
        t.Rules.Add(ProjectionSamples.Rule("fds high"));
        var cut = t.Ctx.Render<AlertRulesPage>();

        cut.WaitForAssertion(() => cut.Find("[data-testid=rule-delete]").Click(), Wait);
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=confirm-cancel]").Click(), Wait);

        t.Dialogs.WaitForAssertion(() => Assert.Empty(t.Dialogs.FindAll("[data-testid=confirm-dialog]")), Wait);
        Assert.Empty(t.Rules.Calls);
        Assert.Single(cut.FindAll("[data-testid=rule-row]"));
    }

    [Fact]
    public async Task AuditLog_ShowsWhoWhenAndTheChangedFieldsBeforeAndAfter()
    {
        await using var t = AlertsContext.Create();
        var at = new DateTimeOffset(2026, 11, 28, 9, 30, 0, TimeSpan.Zero);
        t.Rules.Audit.Add(new AuditEntry(2, at, "bob", "update", "alert_rule", "7", "fds high",
            """{"Name":"fds high","Draft":{"Threshold":80},"For":"00:05:00"}""", """{"Name":"fds high","Draft":{"Threshold":90},"For":"00:05:00"}"""));
        t.Rules.Audit.Add(new AuditEntry(1, at.AddHours(-1), "carol", "create", "alert_rule", "7", "fds high", null, """{"Name":"fds high"}"""));
        var cut = t.Ctx.Render<AlertRulesPage>();

        cut.WaitForAssertion(() =>
        {
            var rows = cut.FindAll("[data-testid=audit-log] [data-testid=audit-row]");
            Assert.Equal(["bob", "carol"], rows.Select(r => r.GetAttribute("data-actor")));
            Assert.Contains("Draft.Threshold: 80 → 90", rows[0].TextContent, StringComparison.Ordinal);
            Assert.DoesNotContain("For:", rows[0].TextContent, StringComparison.Ordinal);
            Assert.Contains("2026-11-28 09:30:00 UTC", rows[0].TextContent, StringComparison.Ordinal);
            Assert.Contains("Name = fds high", rows[1].TextContent, StringComparison.Ordinal);
        }, Wait);
    }
}
