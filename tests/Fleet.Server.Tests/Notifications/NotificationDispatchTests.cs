using System.Text.Json;
using Fleet.Server.Notifications;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection;
using static Fleet.Server.Tests.Notifications.TestAlerts;

namespace Fleet.Server.Tests.Notifications;

public sealed class NotificationDispatchTests
{
    private static readonly DateTimeOffset T0 = NotificationHarness.Start;

    [Fact]
    public async Task FiringTransition_IsDeliveredOnceToEachEnabledChannelOfEnoughSeverity_AndToNoOther()
    {
        await using var h = await NotificationHarness.StartAsync();
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        var warnings = await h.AddChannelAsync("warnings", ChannelKind.Webhook, listener.Url("warnings"), AlertSeverity.Warning);
        var am = await h.AddChannelAsync("am", ChannelKind.Alertmanager, listener.Url("am"), AlertSeverity.Warning);
        var critical = await h.AddChannelAsync("critical", ChannelKind.Webhook, listener.Url("critical"), AlertSeverity.Critical);
        await h.AddChannelAsync("off", ChannelKind.Webhook, listener.Url("off"), AlertSeverity.Warning, enabled: false);

        await h.EnqueueAsync(Firing(Alert(11, AlertSeverity.Warning)));
        Assert.Equal(2, await h.RunOnceAsync());
        Assert.Equal(0, await h.RunOnceAsync());
        h.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await h.RunOnceAsync());

        Assert.Equal(["/am", "/warnings"], listener.Requests.Select(r => r.Path).Order());
        Assert.All(listener.Requests, r => Assert.Equal(("POST", "application/json; charset=utf-8"), (r.Method, r.ContentType)));
        Assert.All(listener.Requests, r => Assert.StartsWith("Fleet-Notifier/", r.UserAgent, StringComparison.Ordinal));
        foreach (var channel in new[] { warnings, am })
        {
            var d = await h.DeliveryAsync(channel.Id);
            Assert.Equal((DeliveryStatus.Delivered, 1, 200, (string?)null, (DateTimeOffset?)null, T0), (d.Status, d.Attempts, d.LastStatusCode, d.LastError, d.NextAttemptAt, d.LastAttemptAt));
        }
        Assert.Empty(await h.DeliveriesAsync(critical.Id));

        var generic = JsonDocument.Parse(Assert.Single(listener.To("warnings")).Body).RootElement;
        Assert.Equal(("firing", 11, "fds over 80%", "warning", "firing", "web-1", "api"),
            (generic.GetProperty("event").GetString(), generic.GetProperty("alertId").GetInt32(), generic.GetProperty("rule").GetString(), generic.GetProperty("severity").GetString(),
             generic.GetProperty("state").GetString(), generic.GetProperty("host").GetString(), generic.GetProperty("service").GetString()));
        Assert.Equal((83.0078125, 80.0), (generic.GetProperty("value").GetDouble(), generic.GetProperty("threshold").GetDouble()));
        Assert.Equal(JsonValueKind.Null, generic.GetProperty("pid").ValueKind);
        Assert.Equal(T0.AddMinutes(-5), generic.GetProperty("firedAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, generic.GetProperty("resolvedAt").ValueKind);
        Assert.Equal(NotificationHarness.PublicUrl + "hosts/web-1?service=api", generic.GetProperty("url").GetString());

        // A critical alert reaches the critical channel too.
        await h.EnqueueAsync(Firing(Alert(12, AlertSeverity.Critical, host: "db-1")));
        Assert.Equal(3, await h.RunOnceAsync());
        Assert.Equal(["/am", "/critical", "/warnings"], listener.Requests.Skip(2).Select(r => r.Path).Order());
    }

    [Fact]
    public async Task ServerErrorTwiceThenOk_IsDeliveredOnTheThirdAttempt_AtTheBackoffTimesOfTheClock()
    {
        await using var h = await NotificationHarness.StartAsync(new() { ["FirstRetryDelay"] = "00:00:10", ["MaxRetryDelay"] = "00:10:00" });
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        var channel = await h.AddChannelAsync("flaky", ChannelKind.Alertmanager, listener.Url("flaky"));
        listener.AnswerNext(500, 2);
        await h.EnqueueAsync(Firing(Alert(21)));

        Assert.Equal(1, await h.RunOnceAsync());
        var first = await h.DeliveryAsync(channel.Id);
        Assert.Equal((DeliveryStatus.Pending, 1, 500, T0.AddSeconds(10)), (first.Status, first.Attempts, first.LastStatusCode, first.NextAttemptAt));
        Assert.StartsWith("HTTP 500", first.LastError, StringComparison.Ordinal);
        Assert.Contains("refused with 500 by the test listener", first.LastError, StringComparison.Ordinal);

        h.Clock.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, await h.RunOnceAsync());
        h.Clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, await h.RunOnceAsync());
        var second = await h.DeliveryAsync(channel.Id);
        Assert.Equal((DeliveryStatus.Pending, 2, 500, T0.AddSeconds(30)), (second.Status, second.Attempts, second.LastStatusCode, second.NextAttemptAt));

        h.Clock.Advance(TimeSpan.FromSeconds(20) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, await h.RunOnceAsync());
        h.Clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, await h.RunOnceAsync());

        var done = await h.DeliveryAsync(channel.Id);
        Assert.Equal((DeliveryStatus.Delivered, 3, 200, (string?)null, (DateTimeOffset?)null), (done.Status, done.Attempts, done.LastStatusCode, done.LastError, done.NextAttemptAt));
        Assert.Equal([(T0, 500), (T0.AddSeconds(10), 500), (T0.AddSeconds(30), 200)], listener.Requests.Select(r => (r.At, r.Answered)));
        // The same body each time: built once, when the transition was stored.
        Assert.Single(listener.Requests.Select(r => r.Body).Distinct());
    }

    [Fact]
    public async Task AlwaysFailing_EndsFailedAfterMaxAttempts_WithBackoffDoublingUpToTheCap()
    {
        await using var h = await NotificationHarness.StartAsync(new() { ["MaxAttempts"] = "5", ["FirstRetryDelay"] = "00:00:10", ["MaxRetryDelay"] = "00:00:30" });
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        listener.AnswerAlways(503);
        var channel = await h.AddChannelAsync("down", ChannelKind.Webhook, listener.Url("down"));
        await h.EnqueueAsync(Firing(Alert(31)));

        // Bounded: one round per attempt, then the row is out of the queue for good.
        for (int round = 0; round < 10; round++)
        {
            await h.RunOnceAsync();
            var d = await h.DeliveryAsync(channel.Id);
            if (d.NextAttemptAt is { } next)
            {
                h.Clock.Advance(next - h.Clock.GetUtcNow());
            }
        }

        var failed = await h.DeliveryAsync(channel.Id);
        Assert.Equal((DeliveryStatus.Failed, 5, 503, (DateTimeOffset?)null), (failed.Status, failed.Attempts, failed.LastStatusCode, failed.NextAttemptAt));
        Assert.Contains("given up after 5 attempts", failed.LastError, StringComparison.Ordinal);
        var gaps = listener.Requests.Zip(listener.Requests.Skip(1), (a, b) => b.At - a.At);
        Assert.Equal([TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)], gaps);
    }

    [Fact]
    public async Task BadRequest_FailsAtOnce_WithoutARetry()
    {
        await using var h = await NotificationHarness.StartAsync();
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        listener.AnswerAlways(400);
        var channel = await h.AddChannelAsync("strict", ChannelKind.Alertmanager, listener.Url("strict"));
        await h.EnqueueAsync(Firing(Alert(41)));

        Assert.Equal(1, await h.RunOnceAsync());
        h.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await h.RunOnceAsync());

        var d = await h.DeliveryAsync(channel.Id);
        Assert.Equal((DeliveryStatus.Failed, 1, 400, (DateTimeOffset?)null), (d.Status, d.Attempts, d.LastStatusCode, d.NextAttemptAt));
        Assert.Contains("not retried", d.LastError, StringComparison.Ordinal);
        Assert.Single(listener.Requests);
    }

    [Fact]
    public async Task TooManyRequests_IsRetried()
    {
        await using var h = await NotificationHarness.StartAsync();
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        listener.AnswerNext(429, 1);
        var channel = await h.AddChannelAsync("throttled", ChannelKind.Webhook, listener.Url("throttled"));
        await h.EnqueueAsync(Firing(Alert(42)));

        await h.RunOnceAsync();
        var waiting = await h.DeliveryAsync(channel.Id);
        h.Clock.Advance(waiting.NextAttemptAt!.Value - h.Clock.GetUtcNow());
        await h.RunOnceAsync();

        Assert.Equal((DeliveryStatus.Pending, 429), (waiting.Status, waiting.LastStatusCode));
        Assert.Equal((DeliveryStatus.Delivered, 2), ((await h.DeliveryAsync(channel.Id)).Status, (await h.DeliveryAsync(channel.Id)).Attempts));
    }

    [Fact]
    public async Task UnreachableReceiver_IsRetriedWithTheNetworkErrorRecorded()
    {
        await using var h = await NotificationHarness.StartAsync();
        // A port that was just free: nothing listens there.
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var channel = await h.AddChannelAsync("nobody", ChannelKind.Webhook, new Uri($"http://127.0.0.1:{port}/hook"));
        await h.EnqueueAsync(Firing(Alert(43)));

        await h.RunOnceAsync();

        var d = await h.DeliveryAsync(channel.Id);
        Assert.Equal((DeliveryStatus.Pending, 1, (int?)null, T0.AddSeconds(10)), (d.Status, d.Attempts, d.LastStatusCode, d.NextAttemptAt));
        Assert.False(string.IsNullOrEmpty(d.LastError));
    }

    [Fact]
    public async Task PendingDeliveries_ResumeAfterTheDispatcherRestarts()
    {
        await using var h = await NotificationHarness.StartAsync(new() { ["PollInterval"] = "00:00:01" });
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        listener.AnswerNext(500, 1);
        var channel = await h.AddChannelAsync("restart", ChannelKind.Alertmanager, listener.Url("restart"));
        await h.EnqueueAsync(Firing(Alert(51)));

        // The first server's dispatcher, as a hosted service: it tries once, then is stopped.
        var first = h.Dispatcher;
        await first.StartAsync(CancellationToken.None).WaitAsync(NotificationHarness.Timeout);
        await Eventually.HoldsAsync(async () => (await h.DeliveryAsync(channel.Id)).LastStatusCode == 500, "the first attempt's answer");
        await first.StopAsync(CancellationToken.None).WaitAsync(NotificationHarness.Timeout);
        var pending = await h.DeliveryAsync(channel.Id);
        Assert.Equal((DeliveryStatus.Pending, 500), (pending.Status, pending.LastStatusCode));

        // A new process: new services on the same database. Its loop runs on the fake clock.
        var restarted = h.BuildServices().GetRequiredService<NotificationDispatcher>();
        Assert.NotSame(first, restarted);
        await restarted.StartAsync(CancellationToken.None).WaitAsync(NotificationHarness.Timeout);
        try
        {
            await Eventually.HoldsAsync(
                async () => (await h.DeliveryAsync(channel.Id)).Status == DeliveryStatus.Delivered,
                "the retry after the restart",
                step: () => h.Clock.Advance(TimeSpan.FromSeconds(1)));
        }
        finally
        {
            await restarted.StopAsync(CancellationToken.None).WaitAsync(NotificationHarness.Timeout);
        }

        var delivered = await h.DeliveryAsync(channel.Id);
        Assert.Equal((2, 200), (delivered.Attempts, delivered.LastStatusCode));
        Assert.Equal([500, 200], listener.Requests.Select(r => r.Answered));
        Assert.True(listener.Requests[1].At >= pending.NextAttemptAt, "not sent before its backoff ran out");
    }

    [Fact]
    public async Task TwoServers_ClaimingAtOnce_SendEachDeliveryOnce()
    {
        await using var h = await NotificationHarness.StartAsync(new() { ["BatchSize"] = "5" });
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        var channel = await h.AddChannelAsync("shared", ChannelKind.Webhook, listener.Url("shared"));
        await h.EnqueueAsync(Enumerable.Range(100, 40).Select(i => Firing(Alert(i))).ToArray());
        var other = h.BuildServices().GetRequiredService<NotificationDispatcher>();

        // Both servers drain the queue concurrently, round after round (bounded).
        for (int round = 0; round < 20 && (await h.DeliveriesAsync(channel.Id)).Any(d => d.Status == DeliveryStatus.Pending); round++)
        {
            await Task.WhenAll(h.RunOnceAsync(), other.RunOnceAsync(CancellationToken.None)).WaitAsync(NotificationHarness.Timeout);
        }

        Assert.All(await h.DeliveriesAsync(channel.Id), d => Assert.Equal((DeliveryStatus.Delivered, 1), (d.Status, d.Attempts)));
        var alertIds = listener.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("alertId").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(100, 40).Select(i => (long)i), alertIds.Order());
    }

    [Fact]
    public async Task DisablingAChannel_SilencesItsPendingDeliveries()
    {
        await using var h = await NotificationHarness.StartAsync();
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        var channel = await h.AddChannelAsync("noisy", ChannelKind.Webhook, listener.Url("noisy"));
        await h.EnqueueAsync(Firing(Alert(61)));

        await h.Channels.UpdateAsync(channel.Id, channel.Draft with { Enabled = false }, "alice", CancellationToken.None).WaitAsync(NotificationHarness.Timeout);
        await h.RunOnceAsync();

        var d = await h.DeliveryAsync(channel.Id);
        Assert.Equal((DeliveryStatus.Failed, 0, "channel disabled before delivery"), (d.Status, d.Attempts, d.LastError));
        Assert.Empty(listener.Requests);
    }

    [Fact]
    public void Backoff_DoublesFromTheFirstDelay_StopsAtTheCap_AndJitterOnlyShortensIt()
    {
        var options = new NotificationOptions { FirstRetryDelay = TimeSpan.FromSeconds(10), MaxRetryDelay = TimeSpan.FromMinutes(10), JitterFraction = 0.2 };

        Assert.Equal(
            [10, 20, 40, 80, 160, 320, 600, 600, 600],
            Enumerable.Range(1, 9).Select(n => NotificationDispatcher.Backoff(n, options, random: 0).TotalSeconds));
        Assert.Equal(8, NotificationDispatcher.Backoff(1, options, random: 1).TotalSeconds, 9);
        Assert.Equal(480, NotificationDispatcher.Backoff(20, options, random: 1).TotalSeconds, 9);
        Assert.Equal(9, NotificationDispatcher.Backoff(1, options, random: 0.5).TotalSeconds, 9);
    }
}

public sealed class NotificationDispatchEdgeTests
{
    private static readonly DateTimeOffset T0 = NotificationHarness.Start;

    [Fact]
    public async Task ReceiverThatNeverAnswers_TimesOutAndIsRetried()
    {
        await using var h = await NotificationHarness.StartAsync(new() { ["RequestTimeout"] = "00:00:00.500" });
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        listener.HangNext(1);
        var channel = await h.AddChannelAsync("slow", ChannelKind.Webhook, listener.Url("slow"));
        await h.EnqueueAsync(Firing(Alert(91)));

        Assert.Equal(1, await h.RunOnceAsync());

        var d = await h.DeliveryAsync(channel.Id);
        Assert.Equal((DeliveryStatus.Pending, 1, (int?)null, T0.AddSeconds(10)), (d.Status, d.Attempts, d.LastStatusCode, d.NextAttemptAt));
        Assert.Equal("timed out after 0.5 s", d.LastError);
    }

    [Fact]
    public async Task StoppingMidSend_HandsTheDeliveryBack_SoTheNextStartSendsItAtOnce()
    {
        await using var h = await NotificationHarness.StartAsync();
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        listener.HangNext(1);
        var channel = await h.AddChannelAsync("stopping", ChannelKind.Webhook, listener.Url("stopping"));
        await h.EnqueueAsync(Firing(Alert(92)));
        var dispatcher = h.Dispatcher;

        await dispatcher.StartAsync(CancellationToken.None).WaitAsync(NotificationHarness.Timeout);
        await Eventually.HoldsAsync(() => Task.FromResult(listener.Requests.Count == 1), "the request in flight");
        await dispatcher.StopAsync(CancellationToken.None).WaitAsync(NotificationHarness.Timeout);

        var d = await h.DeliveryAsync(channel.Id);
        Assert.Equal((DeliveryStatus.Pending, 0, (int?)null), (d.Status, d.Attempts, d.LastStatusCode));
        Assert.True(d.NextAttemptAt <= h.Clock.GetUtcNow(), "due at once, not after the claim's lease");
        Assert.Equal(1, await h.RunOnceAsync());
        Assert.Equal(DeliveryStatus.Delivered, (await h.DeliveryAsync(channel.Id)).Status);
    }

    [Fact]
    public async Task Prune_RemovesFinishedDeliveriesPastTheRetention_AndKeepsPendingOnes()
    {
        await using var h = await NotificationHarness.StartAsync(new() { ["Retention"] = "1.00:00:00" });
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        var ok = await h.AddChannelAsync("ok", ChannelKind.Webhook, listener.Url("ok"));
        await h.EnqueueAsync(Firing(Alert(93)));
        await h.RunOnceAsync();
        await h.Channels.UpdateAsync(ok.Id, ok.Draft with { Enabled = false }, "alice", CancellationToken.None).WaitAsync(NotificationHarness.Timeout);
        var down = await h.AddChannelAsync("down", ChannelKind.Webhook, listener.Url("down"));
        await h.EnqueueAsync(Firing(Alert(94)));
        Assert.Equal(DeliveryStatus.Delivered, (await h.DeliveryAsync(ok.Id)).Status);

        h.Clock.Advance(TimeSpan.FromDays(1) - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await h.Dispatcher.PruneAsync(CancellationToken.None).WaitAsync(NotificationHarness.Timeout));
        h.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await h.Dispatcher.PruneAsync(CancellationToken.None).WaitAsync(NotificationHarness.Timeout));

        Assert.Empty(await h.DeliveriesAsync(ok.Id));
        Assert.Equal(DeliveryStatus.Pending, (await h.DeliveryAsync(down.Id)).Status);
    }
}
