using System.Text.Json;
using Fleet.Server.Notifications;
using Fleet.Server.Storage;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Fleet.Server.Tests.Notifications.TestAlerts;

namespace Fleet.Server.Tests.Notifications;

public sealed class NotificationChannelsTests
{
    private static readonly TimeSpan Timeout = NotificationHarness.Timeout;

    [Fact]
    public async Task CreateUpdateDelete_AreEachAuditedWithActorTimeAndStatesBeforeAndAfter()
    {
        await using var h = await NotificationHarness.StartAsync();
        var draft = new ChannelDraft("ops webhook", ChannelKind.Webhook, "https://hooks.example.test/ops", AlertSeverity.Warning, true);

        var created = await h.Channels.CreateAsync(draft, "alice", CancellationToken.None).WaitAsync(Timeout);
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        var changed = draft with { Kind = ChannelKind.Alertmanager, MinSeverity = AlertSeverity.Critical, Enabled = false };
        var updated = await h.Channels.UpdateAsync(created.Id, changed, "bob", CancellationToken.None).WaitAsync(Timeout);
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        bool deleted = await h.Channels.DeleteAsync(created.Id, "carol", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(draft, created.Draft);
        Assert.Equal(("alice", NotificationHarness.Start), (created.UpdatedBy, created.UpdatedAt));
        Assert.NotNull(updated);
        Assert.Equal(changed, updated.Draft);
        Assert.Equal(("bob", NotificationHarness.Start.AddMinutes(1)), (updated.UpdatedBy, updated.UpdatedAt));
        Assert.True(deleted);
        Assert.Empty(await h.Channels.ListAsync(CancellationToken.None).WaitAsync(Timeout));

        await using var db = await h.Services.GetRequiredService<IDbContextFactory<FleetDbContext>>().CreateDbContextAsync();
        var audit = await db.AuditLog.AsNoTracking().OrderBy(a => a.Id).ToListAsync().WaitAsync(Timeout);
        Assert.Equal(
            [
                ("created", "alice", NotificationHarness.Start, false, true),
                ("updated", "bob", NotificationHarness.Start.AddMinutes(1), true, true),
                ("deleted", "carol", NotificationHarness.Start.AddMinutes(2), true, false),
            ],
            audit.Select(a => (a.Action, a.Actor, a.At, a.Before is not null, a.After is not null)));
        Assert.All(audit, a => Assert.Equal((PostgresNotificationChannels.AuditEntity, created.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "ops webhook"), (a.Entity, a.EntityId, a.EntityName)));
        var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Assert.Equal(created, JsonSerializer.Deserialize<NotificationChannel>(audit[0].After!, web));
        Assert.Equal(created, JsonSerializer.Deserialize<NotificationChannel>(audit[1].Before!, web));
        Assert.Equal(updated, JsonSerializer.Deserialize<NotificationChannel>(audit[1].After!, web));
        Assert.Equal(updated, JsonSerializer.Deserialize<NotificationChannel>(audit[2].Before!, web));
    }

    [Fact]
    public async Task Create_WithBlankNameAndFtpUrl_IsRejectedNamingEachField_AndNothingIsStored()
    {
        await using var h = await NotificationHarness.StartAsync();

        var ex = await Assert.ThrowsAsync<ChannelInvalidException>(() =>
            h.Channels.CreateAsync(new ChannelDraft(" ", ChannelKind.Webhook, "ftp://files.example.test/x", AlertSeverity.Warning, true), "alice", CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(2, ex.Errors.Count);
        Assert.Contains(ex.Errors, e => e.StartsWith("name:", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("url:", StringComparison.Ordinal));
        Assert.Empty(await h.Channels.ListAsync(CancellationToken.None).WaitAsync(Timeout));
        await using var db = await h.Services.GetRequiredService<IDbContextFactory<FleetDbContext>>().CreateDbContextAsync();
        Assert.Equal(0, await db.AuditLog.CountAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Update_WithAnInvalidUrl_IsRejected_AndTheChannelIsUnchanged()
    {
        await using var h = await NotificationHarness.StartAsync();
        var channel = await h.AddChannelAsync("ops", ChannelKind.Webhook, new Uri("https://hooks.example.test/ops"));

        var ex = await Assert.ThrowsAsync<ChannelInvalidException>(() =>
            h.Channels.UpdateAsync(channel.Id, channel.Draft with { Url = "not a url" }, "bob", CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(["url: an absolute http or https URL"], ex.Errors);
        Assert.Equal(channel, Assert.Single(await h.Channels.ListAsync(CancellationToken.None).WaitAsync(Timeout)));
    }

    [Fact]
    public async Task Create_WithTheNameOfAnotherChannel_IsRejectedNamingTheName()
    {
        await using var h = await NotificationHarness.StartAsync();
        await h.AddChannelAsync("ops", ChannelKind.Webhook, new Uri("https://hooks.example.test/a"));
        var other = await h.AddChannelAsync("dev", ChannelKind.Webhook, new Uri("https://hooks.example.test/b"));

        var onCreate = await Assert.ThrowsAsync<ChannelInvalidException>(() =>
            h.AddChannelAsync("ops", ChannelKind.Alertmanager, new Uri("https://hooks.example.test/c")));
        var onRename = await Assert.ThrowsAsync<ChannelInvalidException>(() =>
            h.Channels.UpdateAsync(other.Id, other.Draft with { Name = "ops" }, "bob", CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal("name: \"ops\" is already the name of another channel", Assert.Single(onCreate.Errors));
        Assert.Equal("name: \"ops\" is already the name of another channel", Assert.Single(onRename.Errors));
        Assert.Equal(["dev", "ops"], (await h.Channels.ListAsync(CancellationToken.None).WaitAsync(Timeout)).Select(c => c.Draft.Name));
    }

    [Fact]
    public async Task UpdateAndDelete_OfAnUnknownChannel_SayNoSuchChannel()
    {
        await using var h = await NotificationHarness.StartAsync();
        var draft = new ChannelDraft("ops", ChannelKind.Webhook, "https://hooks.example.test/ops", AlertSeverity.Warning, true);

        Assert.Null(await h.Channels.UpdateAsync(4242, draft, "bob", CancellationToken.None).WaitAsync(Timeout));
        Assert.False(await h.Channels.DeleteAsync(4242, "bob", CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Sink_AddsOneDeliveryPerEnabledChannelOfEnoughSeverity_AndNothingUntilTheEvaluatorSaves()
    {
        await using var h = await NotificationHarness.StartAsync();
        var anySeverity = await h.AddChannelAsync("any", ChannelKind.Webhook, new Uri("https://hooks.example.test/any"), AlertSeverity.Warning);
        var criticalOnly = await h.AddChannelAsync("critical", ChannelKind.Alertmanager, new Uri("https://hooks.example.test/crit"), AlertSeverity.Critical);
        await h.AddChannelAsync("off", ChannelKind.Webhook, new Uri("https://hooks.example.test/off"), AlertSeverity.Warning, enabled: false);
        var warning = Alert(1, AlertSeverity.Warning);
        var critical = Alert(2, AlertSeverity.Critical, host: "db-1");

        // Added but not saved: the evaluator's transaction decides.
        var contexts = h.Services.GetRequiredService<IDbContextFactory<FleetDbContext>>();
        await using (var db = await contexts.CreateDbContextAsync())
        {
            await h.Services.GetRequiredService<Fleet.Server.Alerts.IAlertTransitionSink>().AddAsync(db, [Firing(warning), Firing(critical)], CancellationToken.None).WaitAsync(Timeout);
            Assert.Equal(3, db.ChangeTracker.Entries<Fleet.Server.Storage.Entities.NotificationDeliveryEntity>().Count());
            Assert.Empty(await h.DeliveriesAsync());
        }
        await h.EnqueueAsync(Firing(warning), Firing(critical));

        var deliveries = await h.DeliveriesAsync();
        Assert.Equal(
            [(anySeverity.Id, 1L), (anySeverity.Id, 2L), (criticalOnly.Id, 2L)],
            deliveries.Select(d => (d.ChannelId, d.AlertId)).Order());
        Assert.All(deliveries, d =>
        {
            Assert.Equal((DeliveryStatus.Pending, 0, "firing", "fds over 80%"), (d.Status, d.Attempts, d.Event, d.RuleName));
            Assert.Equal((NotificationHarness.Start, NotificationHarness.Start), (d.CreatedAt, d.NextAttemptAt));
        });
        Assert.Equal("db-1 / api", deliveries.Single(d => d.ChannelId == criticalOnly.Id).Subject);
        // Newest first, and per channel.
        Assert.Equal(deliveries.Select(d => d.Id).OrderDescending(), deliveries.Select(d => d.Id));
        Assert.Equal([2L, 1L], (await h.DeliveriesAsync(anySeverity.Id)).Select(d => d.AlertId));
    }

    [Fact]
    public async Task DeletingAChannel_KeepsItsDeliveryLog_AndGivesUpItsPendingDeliveries()
    {
        await using var h = await NotificationHarness.StartAsync();
        var channel = await h.AddChannelAsync("short-lived", ChannelKind.Webhook, new Uri("https://hooks.example.test/x"));
        await h.EnqueueAsync(Firing(Alert(5)));

        Assert.True(await h.Channels.DeleteAsync(channel.Id, "alice", CancellationToken.None).WaitAsync(Timeout));

        var kept = Assert.Single(await h.DeliveriesAsync(channel.Id));
        Assert.Equal((channel.Id, "short-lived", DeliveryStatus.Failed, "channel deleted before delivery", (DateTimeOffset?)null), (kept.ChannelId, kept.ChannelName, kept.Status, kept.LastError, kept.NextAttemptAt));
        Assert.Equal(0, await h.RunOnceAsync());
    }
}
