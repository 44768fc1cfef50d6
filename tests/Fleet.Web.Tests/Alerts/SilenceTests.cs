using Fleet.Web.Components.Alerts;
using Fleet.Web.Components.Pages;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Fleet.Web.Tests.Alerts;

/// <summary>Silences on the alerts page: the dialog, the list with End now, the silenced mark, and who sees the actions.</summary>
public sealed class SilenceTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static AlertView Firing(DateTimeOffset now) => ProjectionSamples.Alert(1, "fds high", "web-1", AlertState.Firing, AlertSeverity.Critical, now);

    [Fact]
    public async Task Operator_SilencesAnActiveAlert_TheDialogHasItsRuleAndHost_AndTheSilenceIsMadeWithTheReasonDurationAndActor()
    {
        await using var t = AlertsContext.Create();
        t.Auth.SetPolicies(FleetPolicies.View, FleetPolicies.Operate);
        var alert = Firing(DateTimeOffset.UtcNow);
        t.Alerts.Active = [alert];
        var cut = t.Ctx.Render<AlertsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=alert-row] [data-testid=alert-silence]"), Wait);

        cut.Find("[data-testid=alert-row] [data-testid=alert-silence]").Click();
        t.Dialogs.WaitForAssertion(() => Assert.Equal("web-1", t.Dialogs.Find("input[data-testid=silence-host]").GetAttribute("value")), Wait);
        t.Dialogs.FindAll("[data-testid=silence-duration] .mud-chip").Single(c => c.TextContent.Trim() == "4h").Click();
        t.Dialogs.Find("textarea[data-testid=silence-reason]").Change("failover drill until 16:00");
        t.Dialogs.Find("[data-testid=silence-save]").Click();

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=silence-row]")), Wait);
        var (draft, actor) = Assert.Single(t.Silences.Created);
        Assert.Equal((alert.RuleId, "web-1", (string?)null, (long?)null, TimeSpan.FromHours(4), "failover drill until 16:00", AlertsContext.ActorName),
            (draft.RuleId, draft.HostPattern, draft.ServicePattern, draft.AlertId, draft.Duration, draft.Reason, actor));
        Assert.Empty(t.Dialogs.FindAll("[data-testid=silence-dialog]"));
    }

    [Fact]
    public async Task SavingWithoutAReason_SaysSoUnderReason_AndMakesNothing()
    {
        await using var t = AlertsContext.Create();
        t.Alerts.Active = [Firing(DateTimeOffset.UtcNow)];
        var cut = t.Ctx.Render<AlertsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=silence-new]"), Wait);

        cut.Find("[data-testid=silence-new]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=silence-dialog]"), Wait);
        t.Dialogs.Find("input[data-testid=silence-host]").Change("web-*");
        t.Dialogs.Find("[data-testid=silence-save]").Click();

        t.Dialogs.WaitForAssertion(() => Assert.Contains(t.Dialogs.FindAll("[data-testid=silence-error]"), e => e.TextContent.StartsWith("reason:", StringComparison.Ordinal)), Wait);
        Assert.Empty(t.Silences.Created);
        Assert.Single(t.Dialogs.FindAll("[data-testid=silence-dialog]"));
    }

    [Fact]
    public async Task OnlyThisAlert_MakesASilenceOfThatAlertAlone()
    {
        await using var t = AlertsContext.Create();
        var alert = Firing(DateTimeOffset.UtcNow);
        t.Alerts.Active = [alert];
        var cut = t.Ctx.Render<AlertsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=alert-silence]"), Wait);

        cut.Find("[data-testid=alert-silence]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=silence-dialog]"), Wait);
        t.Dialogs.Find("input[data-testid=silence-only-alert]").Change(true);
        t.Dialogs.Find("textarea[data-testid=silence-reason]").Change("known, ticket OPS-12");
        t.Dialogs.Find("[data-testid=silence-save]").Click();

        cut.WaitForAssertion(() => Assert.Single(t.Silences.Created), Wait);
        var (draft, _) = t.Silences.Created[0];
        Assert.Equal(((long?)alert.Id, (long?)null, (string?)null, TimeSpan.FromHours(1)), (draft.AlertId, draft.RuleId, draft.HostPattern, draft.Duration));
    }

    [Fact]
    public async Task Viewer_SeesTheSilencedMarkAndTheSilences_ButNoSilenceNewOrEndAction()
    {
        await using var t = AlertsContext.Create();
        t.Auth.SetPolicies(FleetPolicies.View);
        var now = DateTimeOffset.UtcNow;
        var silence = t.Silences.Add(10, "fds high", "web-*", TimeSpan.FromHours(2), "kernel upgrade", "bo");
        t.Alerts.Active = [Firing(now) with { Silence = silence }, ProjectionSamples.Alert(2, "close-wait", "db-1", AlertState.Firing, AlertSeverity.Warning, now, "pg")];
        var cut = t.Ctx.Render<AlertsPage>();

        cut.WaitForAssertion(() =>
        {
            Assert.Equal(["true", "false"], cut.FindAll("[data-testid=alert-row]").Select(r => r.GetAttribute("data-silenced")));
            var mark = cut.Find("[data-testid=alert-silenced]");
            Assert.Contains("silenced until", mark.TextContent, StringComparison.Ordinal);
            Assert.Contains("by bo: kernel upgrade", mark.TextContent, StringComparison.Ordinal);
            Assert.Equal("bo", cut.Find("[data-testid=silence-row]").GetAttribute("data-created-by"));
        }, Wait);
        Assert.Empty(cut.FindAll("[data-testid=alert-silence]"));
        Assert.Empty(cut.FindAll("[data-testid=silence-new]"));
        Assert.Empty(cut.FindAll("[data-testid=silence-end]"));
    }

    [Fact]
    public async Task Viewer_WhoReachesTheDialogAnyway_IsRefusedByTheSaveHandler()
    {
        await using var t = AlertsContext.Create();
        t.Auth.SetPolicies(FleetPolicies.View);
        var dialogs = t.Ctx.Services.GetRequiredService<IDialogService>();
        await t.Dialogs.InvokeAsync(() => dialogs.ShowAsync<SilenceDialog>("Silence", new DialogParameters<SilenceDialog> { { d => d.Alert, Firing(DateTimeOffset.UtcNow) } }));
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=silence-dialog]"), Wait);

        t.Dialogs.Find("textarea[data-testid=silence-reason]").Change("I should not");
        t.Dialogs.Find("[data-testid=silence-save]").Click();

        t.Dialogs.WaitForAssertion(() => Assert.Equal(SilenceDialog.Refused, t.Dialogs.Find("[data-testid=silence-error]").TextContent.Trim()), Wait);
        Assert.Empty(t.Silences.Created);
    }

    [Fact]
    public async Task Operator_EndsASilenceNow_ItIsEndedAsThemAndLeavesTheList()
    {
        await using var t = AlertsContext.Create();
        t.Auth.SetPolicies(FleetPolicies.View, FleetPolicies.Operate);
        var silence = t.Silences.Add(null, null, "web-*", TimeSpan.FromHours(2), "deploy", "bo");
        var cut = t.Ctx.Render<AlertsPage>();
        cut.WaitForAssertion(() => Assert.Contains("hosts web-*", cut.Find("[data-testid=silence-matchers]").TextContent, StringComparison.Ordinal), Wait);

        cut.Find("[data-testid=silence-end]").Click();

        cut.WaitForAssertion(() => cut.Find("[data-testid=no-silences]"), Wait);
        Assert.Equal([(silence.Id, AlertsContext.ActorName)], t.Silences.Ended);
    }
}
