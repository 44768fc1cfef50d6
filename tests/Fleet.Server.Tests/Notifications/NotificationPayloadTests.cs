using System.Globalization;
using System.Text.Json;
using Fleet.Server.Alerts;
using Fleet.Server.Notifications;
using Fleet.Web.Data;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Fleet.Server.Tests.Notifications.TestAlerts;

namespace Fleet.Server.Tests.Notifications;

public sealed class NotificationPayloadTests
{
    private static readonly DateTimeOffset T0 = NotificationHarness.Start;

    [Fact]
    public async Task AlertmanagerFiring_SendsVersion4WithLabelsAnnotationsStartsAtZeroEndsAtAndTheHostPage()
    {
        await using var h = await NotificationHarness.StartAsync();
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        await h.AddChannelAsync("pager", ChannelKind.Alertmanager, listener.Url("am"));
        var firedAt = new DateTimeOffset(2030, 3, 15, 11, 55, 0, 123, TimeSpan.FromHours(2)); // not UTC on purpose
        await h.EnqueueAsync(Firing(Alert(71, AlertSeverity.Critical, rule: "CLOSE_WAIT toward upstream", host: "web-1", service: "api", pid: 4242, remote: "10.0.3.7:443", firedAt: firedAt)));

        await h.RunOnceAsync();

        var root = JsonDocument.Parse(Assert.Single(listener.Requests).Body).RootElement;
        Assert.Equal(("4", "pager", "firing", 0), (root.GetProperty("version").GetString(), root.GetProperty("receiver").GetString(), root.GetProperty("status").GetString(), root.GetProperty("truncatedAlerts").GetInt32()));
        Assert.Equal("https://fleet.example.test/ops", root.GetProperty("externalURL").GetString());
        var expectedLabels = new Dictionary<string, string>
        {
            ["alertname"] = "CLOSE_WAIT toward upstream",
            ["severity"] = "critical",
            ["host"] = "web-1",
            ["service"] = "api",
            ["pid"] = "4242",
            ["remote"] = "10.0.3.7:443",
        };
        var alert = Assert.Single(root.GetProperty("alerts").EnumerateArray());
        Assert.Equal("firing", alert.GetProperty("status").GetString());
        Assert.Equal(expectedLabels.OrderBy(l => l.Key), Strings(alert.GetProperty("labels")).OrderBy(l => l.Key));
        Assert.Equal(expectedLabels.OrderBy(l => l.Key), Strings(root.GetProperty("groupLabels")).OrderBy(l => l.Key));
        Assert.Equal(expectedLabels.OrderBy(l => l.Key), Strings(root.GetProperty("commonLabels")).OrderBy(l => l.Key));
        var annotations = Strings(alert.GetProperty("annotations"));
        Assert.Equal(["description", "summary"], annotations.Keys.Order());
        Assert.Equal("api on web-1 holds 850 of 1024 fds", annotations["summary"]);
        Assert.Contains("web-1 / api / pid 4242 / remote 10.0.3.7:443", annotations["description"], StringComparison.Ordinal);
        Assert.Equal(annotations, Strings(root.GetProperty("commonAnnotations")));
        // startsAt: when it fired, in UTC as Go writes it; endsAt: Go's zero time while firing.
        Assert.Equal("2030-03-15T09:55:00.123Z", alert.GetProperty("startsAt").GetString());
        Assert.Equal(firedAt, DateTimeOffset.Parse(alert.GetProperty("startsAt").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal("0001-01-01T00:00:00Z", alert.GetProperty("endsAt").GetString());
        Assert.Equal("https://fleet.example.test/ops/hosts/web-1?service=api", alert.GetProperty("generatorURL").GetString());
        Assert.Matches("^[0-9a-f]{16}$", alert.GetProperty("fingerprint").GetString());
        // The group key as Alertmanager prints it: the root route, then the group's labels sorted and quoted.
        Assert.Equal(
            "{}:{alertname=\"CLOSE_WAIT toward upstream\", host=\"web-1\", pid=\"4242\", remote=\"10.0.3.7:443\", service=\"api\", severity=\"critical\"}",
            root.GetProperty("groupKey").GetString());
    }

    [Fact]
    public async Task AlertmanagerResolved_SendsEndsAtTheResolveTime_WithTheFiringMessagesFingerprint()
    {
        await using var h = await NotificationHarness.StartAsync();
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        await h.AddChannelAsync("pager", ChannelKind.Alertmanager, listener.Url("am"));
        var firing = Alert(72, host: "cache-2", service: null);
        var resolved = firing with { State = AlertState.Resolved, ResolvedAt = T0.AddMinutes(30) };

        await h.EnqueueAsync(Firing(firing));
        await h.RunOnceAsync();
        await h.EnqueueAsync(Resolved(resolved));
        await h.RunOnceAsync();

        var messages = listener.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(["firing", "resolved"], messages.Select(m => m.GetProperty("status").GetString()));
        var alerts = messages.Select(m => Assert.Single(m.GetProperty("alerts").EnumerateArray())).ToList();
        Assert.Equal("resolved", alerts[1].GetProperty("status").GetString());
        Assert.Equal(T0.AddMinutes(30), DateTimeOffset.Parse(alerts[1].GetProperty("endsAt").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal(alerts[0].GetProperty("startsAt").GetString(), alerts[1].GetProperty("startsAt").GetString());
        Assert.Equal(alerts[0].GetProperty("fingerprint").GetString(), alerts[1].GetProperty("fingerprint").GetString());
        Assert.Equal(messages[0].GetProperty("groupKey").GetString(), messages[1].GetProperty("groupKey").GetString());
        // A host-wide alert links to the host page, without a service.
        Assert.Equal("https://fleet.example.test/ops/hosts/cache-2", alerts[1].GetProperty("generatorURL").GetString());
        Assert.False(alerts[1].GetProperty("labels").TryGetProperty("service", out _));

        var generic = NotificationPayloadsFor().Webhook(Resolved(resolved));
        var g = JsonDocument.Parse(generic).RootElement;
        Assert.Equal(("resolved", "resolved"), (g.GetProperty("event").GetString(), g.GetProperty("state").GetString()));
        Assert.Equal(T0.AddMinutes(30), g.GetProperty("resolvedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task HostileStrings_RoundTripThroughStorageAndBothFormats()
    {
        const string rule = "quote \" backslash \\ </script> & 'apos'\nnew line\ttab";
        const string host = "hôte-ünïcødé-日本-🚀";
        const string service = "svc\"; DROP TABLE notification_deliveries; --";
        const string summary = "line one\r\nline two \u2028 \u0001 control";
        await using var h = await NotificationHarness.StartAsync();
        await using var listener = await RecordingListener.StartAsync(h.Clock);
        await h.AddChannelAsync("am \"quoted\" ✓", ChannelKind.Alertmanager, listener.Url("am"));
        await h.AddChannelAsync("hook", ChannelKind.Webhook, listener.Url("hook"));
        // NUL and an unpaired surrogate cannot be stored by PostgreSQL: they arrive as U+FFFD.
        await h.EnqueueAsync(Firing(Alert(73, rule: rule, host: host, service: service, remote: "x\0y\uD800:1", summary: summary)));

        Assert.Equal(2, await h.RunOnceAsync());

        var am = JsonDocument.Parse(Assert.Single(listener.To("am")).Body).RootElement;
        var labels = Strings(Assert.Single(am.GetProperty("alerts").EnumerateArray()).GetProperty("labels"));
        Assert.Equal((rule, host, service, "x\uFFFDy\uFFFD:1"), (labels["alertname"], labels["host"], labels["service"], labels["remote"]));
        Assert.Equal("am \"quoted\" ✓", am.GetProperty("receiver").GetString());
        Assert.Equal(summary, am.GetProperty("commonAnnotations").GetProperty("summary").GetString());
        var link = new Uri(Assert.Single(am.GetProperty("alerts").EnumerateArray()).GetProperty("generatorURL").GetString()!);
        Assert.Equal("/ops/hosts/" + Uri.EscapeDataString(host), link.AbsolutePath);
        Assert.Equal(host, Uri.UnescapeDataString(link.AbsolutePath["/ops/hosts/".Length..]));
        Assert.Equal(service, Uri.UnescapeDataString(link.Query["?service=".Length..]));
        Assert.Contains("alertname=\"quote \\\" backslash \\\\ </script> & 'apos'\\nnew line\\ttab\"", am.GetProperty("groupKey").GetString(), StringComparison.Ordinal);

        var hook = JsonDocument.Parse(Assert.Single(listener.To("hook")).Body).RootElement;
        Assert.Equal((rule, host, service, summary), (hook.GetProperty("rule").GetString(), hook.GetProperty("host").GetString(), hook.GetProperty("service").GetString(), hook.GetProperty("summary").GetString()));

        var log = await h.DeliveriesAsync();
        Assert.All(log, d => Assert.Equal((rule, DeliveryStatus.Delivered), (d.RuleName, d.Status)));
        Assert.All(log, d => Assert.Equal($"{host} / {service} / remote x\uFFFDy\uFFFD:1", d.Subject));
    }

    [Fact]
    public void Fingerprint_IsAlertmanagersFnv1aOfTheSortedLabels()
    {
        // Alertmanager (prometheus/common model.LabelSet.Fingerprint): an empty set is the FNV-1a 64 offset basis.
        Assert.Equal("cbf29ce484222325", NotificationPayloads.Fingerprint(new Dictionary<string, string>()));
        var a = NotificationPayloads.Labels(Alert(1));
        var sameLabelsOtherEpisode = NotificationPayloads.Labels(Alert(2, summary: "something else"));
        var otherHost = NotificationPayloads.Labels(Alert(1, host: "web-2"));

        Assert.Equal(NotificationPayloads.Fingerprint(a), NotificationPayloads.Fingerprint(sameLabelsOtherEpisode));
        Assert.NotEqual(NotificationPayloads.Fingerprint(a), NotificationPayloads.Fingerprint(otherHost));
        Assert.Equal(NotificationPayloads.Fingerprint(a), NotificationPayloads.Fingerprint(a.Reverse().ToDictionary()));
    }

    [Fact]
    public void UnknownEvent_IsRefusedNamingTheEvent()
    {
        var ex = Assert.Throws<ArgumentException>(() => NotificationPayloadsFor().Webhook(new AlertTransition(Alert(1), "pending", T0)));
        Assert.Contains("\"pending\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonFiniteValue_IsSentAsNull()
    {
        var json = JsonDocument.Parse(NotificationPayloadsFor().Webhook(Firing(Alert(1) with { Value = double.PositiveInfinity }))).RootElement;
        Assert.Equal(JsonValueKind.Null, json.GetProperty("value").ValueKind);
    }

    [Theory]
    [InlineData(null, null, "http://127.0.0.1:5080/")]
    [InlineData(null, "http://0.0.0.0:8080", "http://127.0.0.1:8080/")]
    [InlineData(null, "http://10.1.2.3:8080", "http://10.1.2.3:8080/")]
    [InlineData("https://fleet.example.test", "http://0.0.0.0:8080", "https://fleet.example.test/")]
    [InlineData("https://example.test/fleet", null, "https://example.test/fleet/")]
    public void PublicUrl_IsFleetPublicUrl_ElseTheHttpEndpoint(string? publicUrl, string? httpUrl, string expectedBase)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Fleet:PublicUrl"] = publicUrl, ["Fleet:Http:Url"] = httpUrl }).Build();
        using var services = new ServiceCollection().AddLogging().AddNotifications(configuration).BuildServiceProvider();

        Assert.Equal(expectedBase, services.GetRequiredService<IOptions<NotificationOptions>>().Value.PublicBase.ToString());
    }

    [Fact]
    public void BadOptions_StopStartUpNamingEachKey()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Fleet:PublicUrl"] = "fleet.example.test",
            ["Fleet:Notifications:MaxAttempts"] = "0",
            ["Fleet:Notifications:JitterFraction"] = "1.5",
        }).Build();
        using var services = new ServiceCollection().AddLogging().AddNotifications(configuration).BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<NotificationOptions>>().Value);
        Assert.Equal(3, ex.Failures.Count());
        Assert.Contains(ex.Failures, f => f.StartsWith("Fleet:PublicUrl:", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.StartsWith("Fleet:Notifications:MaxAttempts:", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.StartsWith("Fleet:Notifications:JitterFraction:", StringComparison.Ordinal));
    }

    private static NotificationPayloads NotificationPayloadsFor() => new(new Uri(NotificationHarness.PublicUrl));

    private static Dictionary<string, string> Strings(JsonElement obj) =>
        obj.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
}
