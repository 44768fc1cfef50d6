using Fleet.Web.Components.Pages;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;

namespace Fleet.Web.Tests.Alerts;

public sealed class AlertChannelsPageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Save_WithARelativeUrl_ShowsTheUrlErrorAndCallsNoPort()
    {
        await using var t = AlertsContext.Create();
        var cut = t.Ctx.Render<AlertChannelsPage>();

        cut.Find("[data-testid=channel-new]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=channel-dialog]"), Wait);
        t.Dialogs.Find("input[data-testid=channel-name]").Change("ops");
        t.Dialogs.Find("input[data-testid=channel-url]").Change("/hook");
        t.Dialogs.Find("[data-testid=channel-save]").Click();

        t.Dialogs.WaitForAssertion(() =>
            Assert.Equal(["url: an absolute http or https URL"], t.Dialogs.FindAll("[data-testid=channel-error]").Select(e => e.TextContent.Trim())), Wait);
        Assert.Empty(t.Channels.Calls);
    }

    [Fact]
    public async Task Create_CallsThePortWithTheActor_AndDelete_AfterConfirming_RemovesIt()
    {
        await using var t = AlertsContext.Create();
        var cut = t.Ctx.Render<AlertChannelsPage>();

        cut.Find("[data-testid=channel-new]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=channel-dialog]"), Wait);
        t.Dialogs.Find("input[data-testid=channel-name]").Change("ops");
        t.Dialogs.Find("input[data-testid=channel-url]").Change("http://127.0.0.1:9/hook");
        t.Dialogs.Find("[data-testid=channel-save]").Click();
        cut.WaitForAssertion(() => Assert.Equal("ops", cut.Find("[data-testid=channel-row]").GetAttribute("data-channel-name")), Wait);

        cut.Find("[data-testid=channel-delete]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=confirm-delete]").Click(), Wait);

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=channel-row]")), Wait);
        Assert.Equal(["create", "delete"], t.Channels.Calls.Select(c => c.Action));
        Assert.All(t.Channels.Calls, c => Assert.Equal(AlertsContext.ActorName, c.Actor));
        Assert.Equal(new ChannelDraft("ops", ChannelKind.Webhook, "http://127.0.0.1:9/hook", AlertSeverity.Warning, true), t.Channels.Calls[0].Draft);
    }

    [Fact]
    public async Task DeliveryLog_ShowsEachDeliveryWithItsStatus()
    {
        await using var t = AlertsContext.Create();
        var now = DateTimeOffset.UtcNow;
        var channel = t.Channels.Add(new ChannelDraft("ops", ChannelKind.Alertmanager, "http://127.0.0.1:9/am", AlertSeverity.Critical, true));
        t.Channels.Deliveries.Add(new DeliveryView(2, channel.Id, "ops", 5, "fds high", "web-1 · api", "resolved", DeliveryStatus.Pending, 2, now, now, now.AddSeconds(30), 503, "service unavailable"));
        t.Channels.Deliveries.Add(new DeliveryView(1, channel.Id, "ops", 5, "fds high", "web-1 · api", "firing", DeliveryStatus.Delivered, 1, now.AddMinutes(-5), now.AddMinutes(-5), null, 200, null));
        var cut = t.Ctx.Render<AlertChannelsPage>();

        cut.WaitForAssertion(() =>
        {
            var rows = cut.FindAll("[data-testid=deliveries-table] [data-testid=delivery-row]");
            Assert.Equal(["pending", "delivered"], rows.Select(r => r.GetAttribute("data-status")));
            Assert.Contains("HTTP 503 service unavailable", rows[0].TextContent, StringComparison.Ordinal);
        }, Wait);
    }
}
