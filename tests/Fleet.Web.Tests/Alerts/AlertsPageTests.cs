using Fleet.Web.Components.Pages;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;

namespace Fleet.Web.Tests.Alerts;

public sealed class AlertsPageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ShowsActiveAlertsWithTheirStateAndSeverity_AndTheHistory()
    {
        await using var t = AlertsContext.Create();
        var now = DateTimeOffset.UtcNow;
        t.Alerts.Active =
        [
            ProjectionSamples.Alert(1, "fds high", "web-1", AlertState.Firing, AlertSeverity.Critical, now),
            ProjectionSamples.Alert(2, "close-wait", "web-2", AlertState.Pending, AlertSeverity.Warning, now, "db"),
        ];
        t.Alerts.History.Add(ProjectionSamples.Alert(0, "fds high", "web-1", AlertState.Resolved, AlertSeverity.Warning, now.AddHours(-2)));
        var cut = t.Ctx.Render<AlertsPage>();

        cut.WaitForAssertion(() =>
        {
            var active = cut.FindAll("[data-testid=active-alerts] [data-testid=alert-row]");
            Assert.Equal(["firing", "pending"], active.Select(r => r.GetAttribute("data-state")));
            Assert.Equal(["critical", "warning"], active.Select(r => r.GetAttribute("data-severity")));
            Assert.Equal(["web-1", "web-2"], active.Select(r => r.GetAttribute("data-host")));
            Assert.Equal(["api", "db"], active.Select(r => r.GetAttribute("data-service")));
            Assert.Contains("91%", active[0].TextContent, StringComparison.Ordinal);
            Assert.Contains("over 80%", active[0].TextContent, StringComparison.Ordinal);
            var history = Assert.Single(cut.FindAll("[data-testid=alert-history] [data-testid=history-row]"));
            Assert.Equal("resolved", history.GetAttribute("data-state"));
        }, Wait);
    }

    [Fact]
    public async Task SeverityFilter_AsksTheHistoryForThatSeverity()
    {
        await using var t = AlertsContext.Create();
        var now = DateTimeOffset.UtcNow;
        t.Alerts.History.Add(ProjectionSamples.Alert(1, "fds high", "web-1", AlertState.Resolved, AlertSeverity.Warning, now.AddHours(-1)));
        t.Alerts.History.Add(ProjectionSamples.Alert(2, "fds critical", "web-1", AlertState.Resolved, AlertSeverity.Critical, now.AddHours(-1)));
        var cut = t.Ctx.Render<AlertsPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=history-row]").Count), Wait);

        cut.FindAll("[data-testid=history-severity] .mud-chip").Single(c => c.TextContent.Trim() == "critical").Click();

        cut.WaitForAssertion(() => Assert.Equal(["fds critical"], cut.FindAll("[data-testid=history-row]").Select(r => r.GetAttribute("data-rule"))), Wait);
        var query = t.Alerts.HistoryQueries[^1];
        Assert.Equal(AlertSeverity.Critical, query.Severity);
        Assert.Equal(TimeSpan.FromDays(1), query.To - query.From - TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task WhenTheAlertsCannotBeRead_SaysSo()
    {
        await using var t = AlertsContext.Create();
        t.Alerts.Failure = new InvalidOperationException("alert store down");
        var cut = t.Ctx.Render<AlertsPage>();

        cut.WaitForAssertion(() =>
        {
            Assert.Contains("alert store down", cut.Find("[data-testid=active-error]").TextContent, StringComparison.Ordinal);
            Assert.Contains("alert store down", cut.Find("[data-testid=history-error]").TextContent, StringComparison.Ordinal);
        }, Wait);
    }
}
