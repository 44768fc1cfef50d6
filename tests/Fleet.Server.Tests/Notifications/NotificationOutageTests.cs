using Fleet.Server.Notifications;
using Fleet.Server.Storage;
using Fleet.Server.Tests.Ingest;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using static Fleet.Server.Tests.Notifications.TestAlerts;

namespace Fleet.Server.Tests.Notifications;

public sealed class NotificationOutageTests
{
    [Fact]
    public async Task DatabaseOutage_IsLoggedAndRetried_TheDispatcherStaysUp_AndDeliversOnceTheDatabaseIsBack()
    {
        await using var h = await NotificationHarness.StartAsync(new() { ["PollInterval"] = "00:00:01" });
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        var channel = await h.AddChannelAsync("after-outage", ChannelKind.Webhook, listener.Url("hook"));
        await h.EnqueueAsync(Firing(Alert(81)));
        var logger = new ListLogger<NotificationDispatcher>();
        var dispatcher = new NotificationDispatcher(
            h.Services.GetRequiredService<IDbContextFactory<FleetDbContext>>(),
            h.Services.GetRequiredService<IHttpClientFactory>(),
            h.Services.GetRequiredService<IOptions<NotificationOptions>>(),
            h.Clock,
            logger);

        await SetConnectionsAllowedAsync(h.Database, false);
        await dispatcher.StartAsync(CancellationToken.None).WaitAsync(NotificationHarness.Timeout);
        try
        {
            await Eventually.HoldsAsync(
                () => Task.FromResult(logger.Lines.Count(l => l.Level == LogLevel.Error) >= 3),
                "three failed rounds logged",
                step: () => h.Clock.Advance(TimeSpan.FromSeconds(30)));
            Assert.False(dispatcher.ExecuteTask!.IsCompleted, "the dispatcher stopped on a database outage");
            Assert.Empty(listener.Requests);

            await SetConnectionsAllowedAsync(h.Database, true);
            await Eventually.HoldsAsync(
                async () => (await h.DeliveryAsync(channel.Id)).Status == DeliveryStatus.Delivered,
                "the delivery once the database is back",
                step: () => h.Clock.Advance(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            await SetConnectionsAllowedAsync(h.Database, true);
            await dispatcher.StopAsync(CancellationToken.None).WaitAsync(NotificationHarness.Timeout);
        }

        Assert.Single(listener.Requests);
        Assert.Contains(logger.Lines, l => l.Level == LogLevel.Error && l.Message.StartsWith("Notification dispatch round failed", StringComparison.Ordinal));
    }

    /// <summary>An outage of this test's database only: new connections refused and open ones cut.</summary>
    private static async Task SetConnectionsAllowedAsync(Infrastructure.TestDatabase database, bool allowed)
    {
        await using var conn = new NpgsqlConnection(database.Cluster.ConnectionString());
        await conn.OpenAsync().WaitAsync(NotificationHarness.Timeout);
        await using (var alter = new NpgsqlCommand($"ALTER DATABASE \"{database.Name}\" WITH ALLOW_CONNECTIONS {(allowed ? "true" : "false")}", conn))
        {
            await alter.ExecuteNonQueryAsync().WaitAsync(NotificationHarness.Timeout);
        }
        if (!allowed)
        {
            await using var kill = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @name AND pid <> pg_backend_pid()", conn);
            kill.Parameters.AddWithValue("name", database.Name);
            await kill.ExecuteScalarAsync().WaitAsync(NotificationHarness.Timeout);
        }
    }
}
