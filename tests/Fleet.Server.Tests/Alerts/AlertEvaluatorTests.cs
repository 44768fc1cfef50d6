using Fleet.Server.Alerts;
using Fleet.Server.Tests.Dashboard;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Fleet.Server.Tests.Alerts;

/// <summary>States and transitions on a controlled clock: pending, firing after the rule's duration, hysteresis, resolution.</summary>
public sealed class AlertEvaluatorTests(AlertHarness harness) : IClassFixture<AlertHarness>, IAsyncLifetime
{
    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task ConditionHeld_IsPendingUntilForElapses_ThenFiresOnTheTickWithoutNewData()
    {
        await using var rig = new EvaluatorRig(harness);
        var rule = await rig.RuleAsync(AlertMetric.ServiceFdPercent, 80, 75, TimeSpan.FromMinutes(5), severity: AlertSeverity.Critical);
        var t0 = rig.Clock.GetUtcNow();

        await rig.EvaluateAsync(rig.Snapshot("web-1", new Proc("api", 10, 850, 1000)));
        var pending = Assert.Single(await rig.ActiveAsync());
        rig.Clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        await rig.EvaluateAsync(rig.Snapshot("web-1", new Proc("api", 10, 860, 1000)));
        await rig.TickAsync();
        var stillPending = Assert.Single(await rig.ActiveAsync());
        Assert.Empty(rig.Sink.Transitions);
        rig.Clock.Advance(TimeSpan.FromSeconds(1));
        await rig.TickAsync();

        Assert.Equal((AlertState.Pending, t0, (DateTimeOffset?)null, 85.0), (pending.State, pending.StartedAt, pending.FiredAt, pending.Value));
        Assert.Equal((AlertState.Pending, pending.Id), (stillPending.State, stillPending.Id));
        var firing = Assert.Single(await rig.ActiveAsync());
        Assert.Equal((pending.Id, AlertState.Firing, t0, t0.AddMinutes(5), rule.Id, AlertSeverity.Critical), (firing.Id, firing.State, firing.StartedAt, firing.FiredAt, firing.RuleId, firing.Severity));
        Assert.Equal(("web-1", "api", (int?)null, (string?)null, 80.0), (firing.Host, firing.Service, firing.Pid, firing.Remote, firing.Threshold));
        var transition = Assert.Single(rig.Sink.Transitions);
        Assert.Equal((AlertTransition.Firing, t0.AddMinutes(5), firing.Id, AlertState.Firing), (transition.Event, transition.At, transition.Alert.Id, transition.Alert.State));
    }

    [Fact]
    public async Task PendingAlert_WhoseConditionClears_IsDroppedAndLeavesNoHistory()
    {
        await using var rig = new EvaluatorRig(harness);
        await rig.RuleAsync(AlertMetric.ServiceFdPercent, 80, 75, TimeSpan.FromMinutes(5));

        await rig.EvaluateAsync(rig.Snapshot("web-2", new Proc("api", 10, 850, 1000)));
        Assert.Single(await rig.ActiveAsync());
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        // 79%: above the recovery threshold but below the threshold: a pending alert needs the condition itself.
        await rig.EvaluateAsync(rig.Snapshot("web-2", new Proc("api", 10, 790, 1000)));
        rig.Clock.Advance(TimeSpan.FromMinutes(10));
        await rig.TickAsync();

        Assert.Empty(await rig.ActiveAsync());
        Assert.Empty(await rig.HistoryAsync());
        Assert.Empty(rig.Sink.Transitions);
    }

    [Fact]
    public async Task FiringAlert_StaysFiringBetweenRecoveryAndThreshold_ResolvesBelowRecovery_AndARecrossStartsANewAlert()
    {
        await using var rig = new EvaluatorRig(harness);
        await rig.RuleAsync(AlertMetric.ServiceFdPercent, 80, 75);
        var t0 = rig.Clock.GetUtcNow();

        await rig.EvaluateAsync(rig.Snapshot("web-3", new Proc("api", 10, 810, 1000)));
        var fired = Assert.Single(await rig.ActiveAsync());
        // Around the threshold, above recovery: no flapping.
        foreach (ulong fds in new ulong[] { 790, 805, 760, 799, 750 })
        {
            rig.Clock.Advance(TimeSpan.FromMinutes(1));
            await rig.EvaluateAsync(rig.Snapshot("web-3", new Proc("api", 10, fds, 1000)));
        }
        var stillFiring = Assert.Single(await rig.ActiveAsync());
        Assert.Single(rig.Sink.Transitions);
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        await rig.EvaluateAsync(rig.Snapshot("web-3", new Proc("api", 10, 749, 1000)));
        var resolvedAt = rig.Clock.GetUtcNow();
        Assert.Empty(await rig.ActiveAsync());
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        // Between recovery and threshold again: nothing starts.
        await rig.EvaluateAsync(rig.Snapshot("web-3", new Proc("api", 10, 790, 1000)));
        Assert.Empty(await rig.ActiveAsync());
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        await rig.EvaluateAsync(rig.Snapshot("web-3", new Proc("api", 10, 820, 1000)));

        Assert.Equal((AlertState.Firing, t0, t0), (fired.State, fired.StartedAt, fired.FiredAt!.Value));
        Assert.Equal((fired.Id, AlertState.Firing, 75.0), (stillFiring.Id, stillFiring.State, stillFiring.Value));
        var again = Assert.Single(await rig.ActiveAsync());
        Assert.NotEqual(fired.Id, again.Id);
        Assert.Equal(AlertState.Firing, again.State);
        var history = await rig.HistoryAsync("web-3");
        Assert.Equal([again.Id, fired.Id], history.Select(a => a.Id));
        Assert.Equal((AlertState.Resolved, resolvedAt, 74.9), (history[1].State, history[1].ResolvedAt!.Value, history[1].Value));
        Assert.Equal(
            [(AlertTransition.Firing, fired.Id), (AlertTransition.Resolved, fired.Id), (AlertTransition.Firing, again.Id)],
            rig.Sink.Transitions.Select(t => (t.Event, t.Alert.Id)));
    }

    [Fact]
    public async Task SubjectThatDisappears_Resolves_ProcessGoneAndServiceGone()
    {
        await using var rig = new EvaluatorRig(harness);
        await rig.RuleAsync(AlertMetric.ProcessFdPercent, 90, 80);
        await rig.RuleAsync(AlertMetric.ServiceCloseWait, 5, 2);

        await rig.EvaluateAsync(rig.Snapshot("web-4", new Proc("api", 10, 950, 1000), new Proc("db", 20, 100, 1000, ("10.0.0.9", 5432, 7))));
        Assert.Equal(2, (await rig.ActiveAsync()).Count);
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        // The api process is replaced by another pid; the db service is gone.
        await rig.EvaluateAsync(rig.Snapshot("web-4", new Proc("api", 11, 10, 1000)));

        Assert.Empty(await rig.ActiveAsync());
        var history = await rig.HistoryAsync("web-4");
        Assert.Equal(2, history.Count);
        Assert.All(history, a => Assert.Equal(AlertState.Resolved, a.State));
        Assert.Contains("process gone", history.Single(a => a.Pid == 10).Summary, StringComparison.Ordinal);
        Assert.Equal(["firing", "firing", "resolved", "resolved"], rig.Sink.Transitions.Select(t => t.Event));
    }

    [Fact]
    public async Task OlderSnapshotOfAHost_IsNotEvaluatedAfterANewerOne()
    {
        await using var rig = new EvaluatorRig(harness);
        await rig.RuleAsync(AlertMetric.ServiceFdPercent, 80, 75);
        var older = rig.Snapshot("web-5", new Proc("api", 10, 900, 1000));
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        var newer = rig.Snapshot("web-5", new Proc("api", 10, 100, 1000));

        await rig.EvaluateAsync(newer);
        await rig.EvaluateAsync(older);

        Assert.Empty(await rig.ActiveAsync());
    }

    [Fact]
    public async Task DeletedRule_ResolvesItsFiringAlertsWithATransition_DropsPendingOnes_AndNothingComesBack()
    {
        await using var rig = new EvaluatorRig(harness);
        var firingRule = await rig.RuleAsync(AlertMetric.ServiceFdPercent, 80, 75);
        var pendingRule = await rig.RuleAsync(AlertMetric.ProcessFdPercent, 80, 75, TimeSpan.FromMinutes(10));
        var snapshot = rig.Snapshot("web-6", new Proc("api", 10, 900, 1000));
        await rig.EvaluateAsync(snapshot);
        var firing = (await rig.ActiveAsync()).Single(a => a.RuleId == firingRule.Id);
        rig.Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.True(await rig.Rules.DeleteAsync(firingRule.Id, "alice", CancellationToken.None).WaitAsync(EvaluatorRig.Timeout));
        Assert.True(await rig.Rules.DeleteAsync(pendingRule.Id, "alice", CancellationToken.None).WaitAsync(EvaluatorRig.Timeout));
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        await rig.EvaluateAsync(rig.Snapshot("web-6", new Proc("api", 10, 900, 1000)));
        await rig.TickAsync();

        Assert.Empty(await rig.ActiveAsync());
        var history = Assert.Single(await rig.HistoryAsync("web-6"));
        Assert.Equal((firing.Id, AlertState.Resolved, AlertHarness.Start.AddMinutes(1)), (history.Id, history.State, history.ResolvedAt!.Value));
        Assert.Contains("rule deleted", history.Summary, StringComparison.Ordinal);
        Assert.Equal([(AlertTransition.Firing, firing.Id), (AlertTransition.Resolved, firing.Id)], rig.Sink.Transitions.Select(t => (t.Event, t.Alert.Id)));
    }

    [Fact]
    public async Task DisabledRule_ResolvesItsAlerts_AndEvaluatesNothing()
    {
        await using var rig = new EvaluatorRig(harness);
        var rule = await rig.RuleAsync(AlertMetric.ServiceFdPercent, 80, 75);
        await rig.EvaluateAsync(rig.Snapshot("web-7", new Proc("api", 10, 900, 1000)));

        await rig.Rules.UpdateAsync(rule.Id, rule.Draft with { Enabled = false }, "alice", CancellationToken.None).WaitAsync(EvaluatorRig.Timeout);
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        await rig.EvaluateAsync(rig.Snapshot("web-7", new Proc("api", 10, 950, 1000)));

        Assert.Empty(await rig.ActiveAsync());
        Assert.Equal(["firing", "resolved"], rig.Sink.Transitions.Select(t => t.Event));
    }

    [Fact]
    public async Task RuleChangedInWhatItWatches_ResolvesItsAlertsAtOnce_InTheSameSaveAsTheAuditEntry()
    {
        await using var rig = new EvaluatorRig(harness);
        var rule = await rig.RuleAsync(AlertMetric.ServiceFdPercent, 80, 75);
        await rig.EvaluateAsync(rig.Snapshot("web-11", new Proc("api", 10, 900, 1000)));
        var firing = Assert.Single(await rig.ActiveAsync());
        rig.Clock.Advance(TimeSpan.FromMinutes(1));

        await rig.Rules.UpdateAsync(rule.Id, rule.Draft with { Scope = AlertScopeKind.HostPattern, Pattern = "db-*" }, "alice", CancellationToken.None).WaitAsync(EvaluatorRig.Timeout);

        Assert.Empty(await rig.ActiveAsync());
        var resolved = Assert.Single(await rig.HistoryAsync("web-11"));
        Assert.Equal((firing.Id, AlertState.Resolved, rig.Clock.GetUtcNow()), (resolved.Id, resolved.State, resolved.ResolvedAt!.Value));
        Assert.Contains("rule changed", resolved.Summary, StringComparison.Ordinal);
        Assert.Equal([AlertTransition.Firing, AlertTransition.Resolved], rig.Sink.Transitions.Select(t => t.Event));
        var audit = await rig.Rules.AuditAsync(10, CancellationToken.None).WaitAsync(EvaluatorRig.Timeout);
        Assert.Equal(["updated", "created"], audit.Where(a => a.Entity == AlertRuleStore.AuditEntity).Select(a => a.Action));
    }

    [Fact]
    public async Task NewThreshold_AppliesToTheOpenAlertAtTheNextEvaluation()
    {
        await using var rig = new EvaluatorRig(harness);
        var rule = await rig.RuleAsync(AlertMetric.ServiceFdPercent, 80, 75);
        await rig.EvaluateAsync(rig.Snapshot("web-8", new Proc("api", 10, 850, 1000)));

        await rig.Rules.UpdateAsync(rule.Id, rule.Draft with { Threshold = 95, Recovery = 90 }, "alice", CancellationToken.None).WaitAsync(EvaluatorRig.Timeout);
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        await rig.EvaluateAsync(rig.Snapshot("web-8", new Proc("api", 10, 850, 1000)));

        Assert.Empty(await rig.ActiveAsync());
        Assert.Equal(95.0, Assert.Single(await rig.HistoryAsync("web-8")).Threshold);
    }

    [Fact]
    public async Task Restart_ReloadsOpenAlerts_FiringOnesDoNotFireAgain_PendingOnesKeepTheirStart()
    {
        await using var rig = new EvaluatorRig(harness);
        await rig.RuleAsync(AlertMetric.ServiceFdPercent, 80, 75);
        await rig.RuleAsync(AlertMetric.ProcessFdPercent, 80, 75, TimeSpan.FromMinutes(5));
        var t0 = rig.Clock.GetUtcNow();
        await rig.EvaluateAsync(rig.Snapshot("web-9", new Proc("api", 10, 900, 1000)));
        var before = await rig.ActiveAsync();

        await rig.RestartAsync();
        rig.Clock.Advance(TimeSpan.FromMinutes(2));
        await rig.EvaluateAsync(rig.Snapshot("web-9", new Proc("api", 10, 910, 1000)));
        var afterRestart = await rig.ActiveAsync();
        rig.Clock.Advance(TimeSpan.FromMinutes(3));
        await rig.TickAsync();

        Assert.Equal([(AlertState.Firing, (int?)null), (AlertState.Pending, 10)], before.Select(a => (a.State, a.Pid)));
        Assert.Equal(before.Select(a => (a.Id, a.State, a.StartedAt)), afterRestart.Select(a => (a.Id, a.State, a.StartedAt)));
        var after = await rig.ActiveAsync();
        Assert.Equal(before.Select(a => (a.Id, AlertState.Firing)).Order(), after.Select(a => (a.Id, a.State)).Order());
        Assert.Equal(t0.AddMinutes(5), after.Single(a => a.Pid == 10).FiredAt);
        // One firing each: the restart did not fire the first again.
        Assert.Equal(before.Select(a => (AlertTransition.Firing, a.Id)), rig.Sink.Transitions.Select(t => (t.Event, t.Alert.Id)));
    }

    [Fact]
    public async Task Transitions_ReachTheSinkInsideTheSameTransaction_AFailedSaveStoresNeither_AndTheNextEvaluationSendsThemOnce()
    {
        await using var rig = new EvaluatorRig(harness);
        await rig.RuleAsync(AlertMetric.ServiceFdPercent, 80, 75);
        rig.Sink.Fail = true;

        await Assert.ThrowsAsync<DbUpdateException>(() => rig.EvaluateAsync(rig.Snapshot("web-10", new Proc("api", 10, 900, 1000))));
        Assert.Empty(await rig.HistoryAsync());
        Assert.Empty(await OutboxAsync());
        rig.Sink.Fail = false;
        rig.Sink.Clear();
        rig.Clock.Advance(TimeSpan.FromSeconds(10));
        await rig.EvaluateAsync(rig.Snapshot("web-10", new Proc("api", 10, 900, 1000)));
        rig.Clock.Advance(TimeSpan.FromSeconds(10));
        await rig.EvaluateAsync(rig.Snapshot("web-10", new Proc("api", 10, 900, 1000)));

        var alert = Assert.Single(await rig.ActiveAsync());
        Assert.Equal(AlertState.Firing, alert.State);
        var transition = Assert.Single(rig.Sink.Transitions);
        Assert.Equal(alert.Id, transition.Alert.Id);
        // The sink's row names the stored alert: both were saved together.
        Assert.Equal([("firing", alert.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))], await OutboxAsync());
    }

    private async Task<List<(string Action, string? EntityId)>> OutboxAsync()
    {
        await using var db = await harness.Contexts.CreateDbContextAsync();
        var rows = await db.AuditLog.Where(a => a.Entity == RecordingSink.OutboxEntity).OrderBy(a => a.Id).ToListAsync().WaitAsync(EvaluatorRig.Timeout);
        return [.. rows.Select(r => (r.Action, r.EntityId))];
    }
}
