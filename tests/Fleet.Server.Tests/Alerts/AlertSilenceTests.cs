using Fleet.Server.Alerts;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Fleet.Server.Tests.Alerts;

/// <summary>
/// Silences against the real evaluator and notification outbox on PostgreSQL: what is suppressed, what goes out when a
/// silence ends (expired or ended early), and that a restart neither loses nor repeats it.
/// </summary>
public sealed class AlertSilenceTests
{
    private static readonly TimeSpan Timeout = SilenceRig.Timeout;

    [Fact]
    public async Task MatchingSilence_SuppressesTheFiringNotification_LogSaysSilencedById_AndTheAlertShowsIt()
    {
        await using var rig = await SilenceRig.StartAsync();
        var rule = await rig.RuleAndChannelAsync();
        var silence = await rig.SilenceAsync(ruleId: rule.Id, host: "web-*", duration: TimeSpan.FromHours(2));

        await rig.EvaluateAsync("web-1", ("api", 900));

        var alert = Assert.Single(await rig.ActiveAsync());
        Assert.Equal(AlertState.Firing, alert.State);
        Assert.Equal((silence.Id, AlertSilenceTests.Until(2), SilenceRig.Operator, "deploy of api"), (alert.Silence?.Id, alert.Silence?.Until, alert.Silence?.CreatedBy, alert.Silence?.Reason));
        var delivery = Assert.Single(await rig.DeliveriesAsync());
        Assert.Equal((DeliveryStatus.Suppressed, "firing", alert.Id, 0, (DateTimeOffset?)null), (delivery.Status, delivery.Event, delivery.AlertId, delivery.Attempts, delivery.NextAttemptAt));
        Assert.StartsWith($"silenced by #{silence.Id} ", delivery.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SilenceOfOtherHostsOrRule_DoesNotSuppress()
    {
        await using var rig = await SilenceRig.StartAsync();
        var rule = await rig.RuleAndChannelAsync();
        var other = await rig.RuleAndChannelAsync("other rule");
        await rig.SilenceAsync(ruleId: rule.Id, host: "db-*");
        await rig.SilenceAsync(ruleId: other.Id);
        await rig.SilenceAsync(service: "cache*");

        await rig.EvaluateAsync("web-1", ("api", 900));

        var alerts = await rig.ActiveAsync();
        var mine = Assert.Single(alerts, a => a.RuleId == rule.Id);
        Assert.Null(mine.Silence);
        var delivery = Assert.Single(await rig.DeliveriesAsync(), d => d.AlertId == mine.Id);
        Assert.Equal((DeliveryStatus.Pending, (string?)null), (delivery.Status, delivery.LastError));
    }

    [Fact]
    public async Task ExpiredSilence_AlertStillFiring_NotifiesOnceOnTheNextTick_AndNotAgainAfterARestart()
    {
        await using var rig = await SilenceRig.StartAsync();
        var rule = await rig.RuleAndChannelAsync();
        var silence = await rig.SilenceAsync(ruleId: rule.Id, duration: TimeSpan.FromMinutes(30));
        await rig.EvaluateAsync("web-1", ("api", 900));

        rig.Clock.Advance(TimeSpan.FromMinutes(29));
        await rig.TickAsync();
        var beforeEnd = await rig.DeliveriesAsync();
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        await rig.EvaluateAsync("web-1", ("api", 950));
        var atEndBeforeTick = await rig.DeliveriesAsync();
        await rig.TickAsync();
        await rig.TickAsync();
        await rig.RestartAsync();
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        await rig.TickAsync();

        Assert.Equal([DeliveryStatus.Suppressed], beforeEnd.Select(d => d.Status));
        Assert.Equal([DeliveryStatus.Suppressed], atEndBeforeTick.Select(d => d.Status));
        var log = await rig.DeliveriesAsync();
        Assert.Equal([(DeliveryStatus.Suppressed, "firing"), (DeliveryStatus.Pending, "firing")], log.Select(d => (d.Status, d.Event)));
        Assert.Equal(Until(0).AddMinutes(30), log[1].CreatedAt);
        var alert = Assert.Single(await rig.ActiveAsync());
        Assert.Null(alert.Silence);
        var stored = await rig.Silences.GetAsync(silence.Id, CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(AlertSilenceState.Expired, stored!.StateAt(rig.Clock.GetUtcNow()));
    }

    [Fact]
    public async Task EndedEarly_NotifiesTheStillFiringAlertAtOnce_AuditsWhoEndedIt_AndTheTickAddsNothing()
    {
        await using var rig = await SilenceRig.StartAsync();
        var rule = await rig.RuleAndChannelAsync();
        var silence = await rig.SilenceAsync(ruleId: rule.Id, duration: TimeSpan.FromDays(1), reason: "noisy during migration");
        await rig.EvaluateAsync("web-1", ("api", 900));
        rig.Clock.Advance(TimeSpan.FromMinutes(10));

        var ended = await rig.Silences.EndAsync(silence.Id, "bo (admin)", CancellationToken.None).WaitAsync(Timeout);
        var afterEnd = await rig.DeliveriesAsync();
        var again = await rig.Silences.EndAsync(silence.Id, "someone else", CancellationToken.None).WaitAsync(Timeout);
        await rig.TickAsync();
        await rig.RestartAsync();
        await rig.TickAsync();

        Assert.Equal((AlertSilenceState.Ended, Until(0).AddMinutes(10), "bo (admin)"), (ended!.StateAt(rig.Clock.GetUtcNow()), ended.EndedAt, ended.EndedBy));
        Assert.Equal((ended.EndedAt, ended.EndedBy), (again!.EndedAt, again.EndedBy));
        Assert.Equal([DeliveryStatus.Suppressed, DeliveryStatus.Pending], afterEnd.Select(d => d.Status));
        Assert.Equal(afterEnd.Select(d => d.Id), (await rig.DeliveriesAsync()).Select(d => d.Id));
        var audit = (await rig.AuditAsync()).Where(a => a.Entity == AlertSilenceStore.AuditEntity).ToList();
        Assert.Equal([("ended", "bo (admin)"), ("created", SilenceRig.Operator)], audit.Select(a => (a.Action, a.Actor)));
        Assert.All(audit, a => Assert.Equal(silence.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), a.EntityId));
        Assert.Single(await rig.Silences.ListAsync(includeOver: true, 10, CancellationToken.None).WaitAsync(Timeout));
        Assert.Empty(await rig.Silences.ListAsync(includeOver: false, 10, CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task AlertResolvedWhileSilenced_SendsNeitherTheResolveNorAnythingWhenTheSilenceEnds()
    {
        await using var rig = await SilenceRig.StartAsync();
        var rule = await rig.RuleAndChannelAsync();
        await rig.SilenceAsync(ruleId: rule.Id, duration: TimeSpan.FromMinutes(30));
        await rig.EvaluateAsync("web-1", ("api", 900));
        rig.Clock.Advance(TimeSpan.FromMinutes(5));
        await rig.EvaluateAsync("web-1", ("api", 100));

        rig.Clock.Advance(TimeSpan.FromMinutes(30));
        await rig.TickAsync();

        Assert.Empty(await rig.ActiveAsync());
        var log = await rig.DeliveriesAsync();
        Assert.Equal([(DeliveryStatus.Suppressed, "firing"), (DeliveryStatus.Suppressed, "resolved")], log.Select(d => (d.Status, d.Event)));
    }

    [Fact]
    public async Task AlertThatFiredBeforeTheSilence_ItsResolveStillGoesOut_AndItsEndSendsNothing()
    {
        await using var rig = await SilenceRig.StartAsync();
        var rule = await rig.RuleAndChannelAsync();
        await rig.EvaluateAsync("web-1", ("api", 900));
        await rig.SilenceAsync(ruleId: rule.Id, duration: TimeSpan.FromMinutes(30));
        rig.Clock.Advance(TimeSpan.FromMinutes(5));
        await rig.EvaluateAsync("web-1", ("api", 950));
        rig.Clock.Advance(TimeSpan.FromMinutes(30));
        await rig.TickAsync();
        var atEnd = await rig.DeliveriesAsync();
        await rig.EvaluateAsync("web-1", ("api", 100));

        // The channel heard it fire (before the silence): nothing was missed at the end, and it hears the resolve.
        Assert.Equal([(DeliveryStatus.Pending, "firing")], atEnd.Select(d => (d.Status, d.Event)));
        Assert.Equal([(DeliveryStatus.Pending, "firing"), (DeliveryStatus.Pending, "resolved")], (await rig.DeliveriesAsync()).Select(d => (d.Status, d.Event)));
    }

    [Fact]
    public async Task SilenceMadeFromOneAlert_CoversThatSubjectOnly()
    {
        await using var rig = await SilenceRig.StartAsync();
        var rule = await rig.RuleAndChannelAsync(@for: TimeSpan.FromMinutes(5));
        await rig.EvaluateAsync("web-1", ("api", 900), ("worker", 900));
        var api = Assert.Single(await rig.ActiveAsync(), a => a.Service == "api");
        var silence = await rig.SilenceAsync(alertId: api.Id);

        rig.Clock.Advance(TimeSpan.FromMinutes(5));
        await rig.TickAsync();

        Assert.Equal((rule.Id, "web-1", "api"), (silence.RuleId, silence.Subject?.Host, silence.Subject?.Service));
        var log = await rig.DeliveriesAsync();
        Assert.Equal(DeliveryStatus.Suppressed, Assert.Single(log, d => d.AlertId == api.Id).Status);
        Assert.Equal(DeliveryStatus.Pending, Assert.Single(log, d => d.AlertId != api.Id).Status);
        var active = await rig.ActiveAsync();
        Assert.Equal(silence.Id, Assert.Single(active, a => a.Service == "api").Silence?.Id);
        Assert.Null(Assert.Single(active, a => a.Service == "worker").Silence);
    }

    [Fact]
    public async Task TwoSilences_TheAlertIsNotifiedOnlyWhenTheLastOneEnds()
    {
        await using var rig = await SilenceRig.StartAsync();
        var rule = await rig.RuleAndChannelAsync();
        await rig.SilenceAsync(ruleId: rule.Id, duration: TimeSpan.FromMinutes(10));
        var longer = await rig.SilenceAsync(host: "web-1", duration: TimeSpan.FromMinutes(40));
        await rig.EvaluateAsync("web-1", ("api", 900));

        rig.Clock.Advance(TimeSpan.FromMinutes(10));
        await rig.TickAsync();
        var afterFirst = await rig.DeliveriesAsync();
        rig.Clock.Advance(TimeSpan.FromMinutes(30));
        await rig.TickAsync();

        Assert.All(afterFirst, d => Assert.Equal(DeliveryStatus.Suppressed, d.Status));
        Assert.StartsWith($"silenced by #{longer.Id} ", afterFirst[^1].LastError, StringComparison.Ordinal);
        Assert.Equal(DeliveryStatus.Pending, (await rig.DeliveriesAsync())[^1].Status);
        Assert.Single(await rig.DeliveriesAsync(), d => d.Status == DeliveryStatus.Pending);
    }

    [Fact]
    public async Task ExpiryHandled_IsStoredWithItsNotification_SoANewServerFindsNothingLeft()
    {
        await using var rig = await SilenceRig.StartAsync();
        var rule = await rig.RuleAndChannelAsync();
        var silence = await rig.SilenceAsync(ruleId: rule.Id, duration: TimeSpan.FromMinutes(5));
        await rig.EvaluateAsync("web-1", ("api", 900));
        rig.Clock.Advance(TimeSpan.FromMinutes(6));
        await rig.RestartAsync();

        int first = await Silences.ReleaseEndedAsync(rig.Contexts, NoAlertTransitionSink.Instance, rig.Clock.GetUtcNow(), CancellationToken.None).WaitAsync(Timeout);
        int second = await Silences.ReleaseEndedAsync(rig.Contexts, NoAlertTransitionSink.Instance, rig.Clock.GetUtcNow(), CancellationToken.None).WaitAsync(Timeout);
        await rig.TickAsync();

        Assert.Equal((1, 0), (first, second));
        await using var db = await rig.Contexts.CreateDbContextAsync();
        Assert.NotNull((await db.AlertSilences.SingleAsync(s => s.Id == silence.Id).WaitAsync(Timeout)).ReleasedAt);
        // The release here went to a sink that sends nothing, so the tick has nothing left to send either.
        Assert.Equal([DeliveryStatus.Suppressed], (await rig.DeliveriesAsync()).Select(d => d.Status));
    }

    [Fact]
    public async Task Pruning_KeepsTheSuppressedFiringOfAnAlertStillOpen_UntilItResolves()
    {
        await using var rig = await SilenceRig.StartAsync();
        var rule = await rig.RuleAndChannelAsync();
        await rig.SilenceAsync(ruleId: rule.Id, duration: TimeSpan.FromDays(7));
        await rig.EvaluateAsync("web-1", ("api", 900));
        await rig.EvaluateAsync("web-2", ("api", 900));
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        await rig.EvaluateAsync("web-2", ("api", 100));
        rig.Clock.Advance(TimeSpan.FromDays(31));

        int removed = await rig.Dispatcher.PruneAsync(CancellationToken.None).WaitAsync(Timeout);

        // web-2's firing and resolve are gone; web-1 still fires under the silence, so its suppressed firing stays.
        Assert.Equal(2, removed);
        var kept = Assert.Single(await rig.DeliveriesAsync());
        Assert.Equal(("web-1 / api", "firing", DeliveryStatus.Suppressed), (kept.Subject, kept.Event, kept.Status));
    }

    [Theory]
    [InlineData(null, null, null, null, 60, "deploy", "matchers")]
    [InlineData(null, "*", "**", null, 60, "deploy", "matchers")]
    [InlineData(null, "web-*", null, null, 4, "deploy", "duration")]
    [InlineData(null, "web-*", null, null, 7 * 24 * 60 + 1, "deploy", "duration")]
    [InlineData(null, "web-*", null, null, 60, " ", "reason")]
    [InlineData(3L, null, null, 5L, 60, "deploy", "alertId")]
    [InlineData(999L, null, null, null, 60, "deploy", "ruleId")]
    [InlineData(null, null, null, 999L, 60, "deploy", "alertId")]
    public async Task InvalidSilence_IsRefusedNamingTheField_AndNothingIsStored(long? ruleId, string? host, string? service, long? alertId, int minutes, string reason, string field)
    {
        await using var rig = await SilenceRig.StartAsync();

        var e = await Assert.ThrowsAsync<AlertSilenceInvalidException>(() => rig.SilenceAsync(ruleId, host, service, alertId, TimeSpan.FromMinutes(minutes), reason));

        Assert.Contains(e.Errors, x => x.StartsWith(field + ":", StringComparison.Ordinal));
        Assert.Empty(await rig.Silences.ListAsync(includeOver: true, 10, CancellationToken.None).WaitAsync(Timeout));
        Assert.DoesNotContain(await rig.AuditAsync(), a => a.Entity == AlertSilenceStore.AuditEntity);
    }

    private static DateTimeOffset Until(int hours) => AlertHarness.Start.AddHours(hours);
}
