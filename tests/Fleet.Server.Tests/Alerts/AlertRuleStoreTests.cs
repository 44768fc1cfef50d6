using System.Text.Json;
using Fleet.Server.Alerts;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Server.Tests.Alerts;

public sealed class AlertRuleStoreTests(AlertHarness harness) : IClassFixture<AlertHarness>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = AlertHarness.Timeout;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private IAlertRules Rules => harness.Services.GetRequiredService<IAlertRules>();

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static AlertRuleDraft Draft(string name = "api fds", double threshold = 70, double recovery = 60) =>
        new(name, AlertMetric.ServiceFdPercent, AlertScopeKind.Service, "api-*", null, threshold, recovery, TimeSpan.FromMinutes(3), AlertSeverity.Warning, Enabled: true);

    [Fact]
    public async Task Create_StoresTheRuleAndAnAuditEntryWithWhoWhenAndTheAfterState()
    {
        var at = harness.Clock.GetUtcNow();

        var rule = await Rules.CreateAsync(Draft(), "alice", CancellationToken.None).WaitAsync(Timeout);

        Assert.True(rule.Id >= DefaultAlertRules.FirstUserRuleId);
        Assert.Equal((Draft(), at, at, "alice"), (rule.Draft, rule.CreatedAt, rule.UpdatedAt, rule.UpdatedBy));
        Assert.Equal(rule, await Rules.GetAsync(rule.Id, CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal([rule], await Rules.ListAsync(CancellationToken.None).WaitAsync(Timeout));
        var entry = Assert.Single(await Rules.AuditAsync(10, CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal((at, "alice", "created", "alert-rule", rule.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "api fds", (string?)null),
            (entry.At, entry.Actor, entry.Action, entry.Entity, entry.EntityId, entry.EntityName, entry.BeforeJson));
        Assert.Equal(rule, Deserialize(entry.AfterJson));
    }

    [Fact]
    public async Task UpdateThenDelete_AuditsBeforeAndAfter_NewestFirst()
    {
        var created = await Rules.CreateAsync(Draft(), "alice", CancellationToken.None).WaitAsync(Timeout);
        harness.Clock.Advance(TimeSpan.FromMinutes(1));
        var updated = await Rules.UpdateAsync(created.Id, Draft(threshold: 85, recovery: 80), "bob", CancellationToken.None).WaitAsync(Timeout);
        harness.Clock.Advance(TimeSpan.FromMinutes(1));
        bool deleted = await Rules.DeleteAsync(created.Id, "carol", CancellationToken.None).WaitAsync(Timeout);

        Assert.NotNull(updated);
        Assert.Equal((85.0, 80.0, "bob", created.CreatedAt, created.CreatedAt.AddMinutes(1)),
            (updated.Draft.Threshold, updated.Draft.Recovery, updated.UpdatedBy, updated.CreatedAt, updated.UpdatedAt));
        Assert.True(deleted);
        Assert.Null(await Rules.GetAsync(created.Id, CancellationToken.None).WaitAsync(Timeout));
        var audit = await Rules.AuditAsync(10, CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(["deleted", "updated", "created"], audit.Select(a => a.Action));
        Assert.Equal(["carol", "bob", "alice"], audit.Select(a => a.Actor));
        Assert.Equal(created.CreatedAt.AddMinutes(2), audit[0].At);
        Assert.Equal(updated, Deserialize(audit[0].BeforeJson));
        Assert.Null(audit[0].AfterJson);
        Assert.Equal(created, Deserialize(audit[1].BeforeJson));
        Assert.Equal(updated, Deserialize(audit[1].AfterJson));
        // The limit keeps the newest.
        Assert.Equal(["deleted"], (await Rules.AuditAsync(1, CancellationToken.None).WaitAsync(Timeout)).Select(a => a.Action));
    }

    [Fact]
    public async Task UnknownIds_UpdateGivesNull_DeleteGivesFalse_NothingAudited()
    {
        Assert.Null(await Rules.UpdateAsync(424242, Draft(), "alice", CancellationToken.None).WaitAsync(Timeout));
        Assert.False(await Rules.DeleteAsync(424242, "alice", CancellationToken.None).WaitAsync(Timeout));
        Assert.Null(await Rules.GetAsync(424242, CancellationToken.None).WaitAsync(Timeout));
        Assert.Empty(await Rules.AuditAsync(10, CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task InvalidDraft_IsRejectedNamingEachField_AndNothingIsStored()
    {
        var bad = new AlertRuleDraft("", AlertMetric.ServiceFdPercent, AlertScopeKind.HostPattern, null, null, 120, 130, TimeSpan.FromDays(2), AlertSeverity.Critical, true);

        var create = await Assert.ThrowsAsync<AlertRuleInvalidException>(() => Rules.CreateAsync(bad, "alice", CancellationToken.None)).WaitAsync(Timeout);
        var existing = await Rules.CreateAsync(Draft(), "alice", CancellationToken.None).WaitAsync(Timeout);
        var update = await Assert.ThrowsAsync<AlertRuleInvalidException>(() => Rules.UpdateAsync(existing.Id, Draft(threshold: 50, recovery: 60), "bob", CancellationToken.None)).WaitAsync(Timeout);

        Assert.Equal(["name", "pattern", "threshold", "recovery", "for"], create.Errors.Select(e => e[..e.IndexOf(':', StringComparison.Ordinal)]));
        Assert.Equal("recovery: at or below the threshold", Assert.Single(update.Errors));
        Assert.Equal([existing], await Rules.ListAsync(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(["created"], (await Rules.AuditAsync(10, CancellationToken.None).WaitAsync(Timeout)).Select(a => a.Action));
    }

    [Fact]
    public async Task UpdateWithTheSameDraft_ChangesNothingAndRecordsNothing()
    {
        var created = await Rules.CreateAsync(Draft(), "alice", CancellationToken.None).WaitAsync(Timeout);
        harness.Clock.Advance(TimeSpan.FromMinutes(1));

        var same = await Rules.UpdateAsync(created.Id, Draft(), "bob", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(created, same);
        Assert.Single(await Rules.AuditAsync(10, CancellationToken.None).WaitAsync(Timeout));
    }

    private static AlertRule? Deserialize(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<AlertRule>(json, Json);
}
