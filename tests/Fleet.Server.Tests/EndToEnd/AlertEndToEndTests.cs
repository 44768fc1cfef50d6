using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Fleet.Server.Tests.Notifications;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Fleet.Server.Tests.EndToEnd;

/// <summary>
/// An alert from leak to page and back: a real agent reads this machine's /proc, a separate process leaks sockets in
/// CLOSE_WAIT toward one endpoint, the server's evaluator fires the rule, the Alertmanager webhook reaches a real HTTP
/// receiver, and once the leaking process is gone the alert resolves and the resolved message follows.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class AlertEndToEndTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Leaked = 5;
    private EndToEndHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await EndToEndHarness.OnFreshDatabaseAsync(output);

    public async Task DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    [Fact]
    public async Task CloseWaitLeak_FiresTheRule_NotifiesTheWebhook_AndResolvesOnceTheLeakStops()
    {
        // Arrange: a receiver for the webhook, the server with an Alertmanager channel to it and a rule on CLOSE_WAIT
        // toward one endpoint this test listens on (it accepts and closes every connection: the leaker's side is left in CLOSE_WAIT).
        await using var receiver = await RecordingListener.StartAsync(TimeProvider.System);
        using var sockets = new LoopbackCloseWait();
        var target = sockets.Listen();
        string remote = $"127.0.0.1:{LoopbackCloseWait.Port(target)}";
        using var stopAccepting = new CancellationTokenSource();
        var accepting = AcceptAndCloseAsync(target, stopAccepting.Token);

        var server = _harness.StartServer();
        using var ct = new CancellationTokenSource(EndToEndHarness.Deadline * 3);
        var channels = server.Services.GetRequiredService<INotificationChannels>();
        var rules = server.Services.GetRequiredService<IAlertRules>();
        var alerts = server.Services.GetRequiredService<IAlertData>();
        await channels.CreateAsync(new ChannelDraft("e2e receiver", ChannelKind.Alertmanager, receiver.Url("alertmanager").ToString(), AlertSeverity.Warning, true), "e2e", ct.Token);
        var rule = await rules.CreateAsync(
            new AlertRuleDraft("e2e CLOSE_WAIT leak", AlertMetric.RemoteCloseWait, AlertScopeKind.Fleet, null, remote,
                Threshold: 3, Recovery: 0, For: TimeSpan.FromSeconds(2), AlertSeverity.Critical, Enabled: true),
            "e2e", ct.Token);
        string token = await EndToEndHarness.CreateTokenAsync(server, "e2e-alerts");
        _harness.StartAgent(server.Grpc, token);

        // Act: the leaking process opens one connection every 200 ms and never closes them.
        using var leaker = StartLeaker(LoopbackCloseWait.Port(target), Leaked);

        // Assert: the rule fires, and the receiver gets the Alertmanager message for it.
        await _harness.UntilAsync(() => Messages(receiver, rule.Draft.Name, "firing").Count > 0, () => $"a firing message for {remote} ({Describe(receiver)})");
        var firing = Messages(receiver, rule.Draft.Name, "firing")[0];
        Assert.Equal("4", firing.GetProperty("version").GetString());
        var firingAlert = Assert.Single(firing.GetProperty("alerts").EnumerateArray().ToList());
        var labels = firingAlert.GetProperty("labels");
        Assert.Equal(remote, labels.GetProperty("remote").GetString());
        Assert.Equal("critical", labels.GetProperty("severity").GetString());
        Assert.Equal(Environment.MachineName, labels.GetProperty("host").GetString());
        Assert.Contains("/hosts/", firingAlert.GetProperty("generatorURL").GetString(), StringComparison.Ordinal);
        var active = await alerts.ActiveAsync(null, ct.Token);
        var alert = Assert.Single(active, a => a.RuleId == rule.Id);
        Assert.Equal((AlertState.Firing, remote), (alert.State, alert.Remote));
        Assert.True(alert.Value >= 3, $"the firing value counts the leaked sockets: {alert.Value}");

        // Act: the leak stops (the process ends, its sockets with it).
        leaker.Kill(entireProcessTree: true);
        await leaker.WaitForExitAsync(ct.Token);

        // Assert: the alert resolves, the receiver gets the resolved message with its end time, and both deliveries are logged.
        await _harness.UntilAsync(() => Messages(receiver, rule.Draft.Name, "resolved").Count > 0, () => $"a resolved message for {remote} ({Describe(receiver)})");
        var resolvedAlert = Assert.Single(Messages(receiver, rule.Draft.Name, "resolved")[0].GetProperty("alerts").EnumerateArray().ToList());
        var startsAt = resolvedAlert.GetProperty("startsAt").GetDateTimeOffset();
        var endsAt = resolvedAlert.GetProperty("endsAt").GetDateTimeOffset();
        Assert.True(endsAt > startsAt, $"a resolved alert ends after it started: {startsAt:O} -> {endsAt:O}");
        Assert.Equal(firingAlert.GetProperty("fingerprint").GetString(), resolvedAlert.GetProperty("fingerprint").GetString());
        Assert.DoesNotContain(await alerts.ActiveAsync(null, ct.Token), a => a.RuleId == rule.Id);
        var history = await alerts.HistoryAsync(new AlertHistoryQuery(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1)), ct.Token);
        var ended = Assert.Single(history, a => a.RuleId == rule.Id);
        Assert.Equal(AlertState.Resolved, ended.State);
        Assert.True(ended.FiredAt is not null && ended.ResolvedAt > ended.FiredAt, $"fired then resolved: {ended}");
        await _harness.UntilAsync(
            async () => (await channels.DeliveriesAsync(null, 100, ct.Token)).Count(d => d.RuleName == rule.Draft.Name && d.Status == DeliveryStatus.Delivered) == 2,
            () => "both deliveries logged as delivered");

        await stopAccepting.CancelAsync();
        await accepting;
    }

    /// <summary>A separate process (python3) that connects <paramref name="count"/> times to the port and keeps every socket open without reading.</summary>
    private Process StartLeaker(int port, int count)
    {
        const string script = """
            import socket, sys, time
            held = []
            for _ in range(int(sys.argv[2])):
                held.append(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
                time.sleep(0.2)
            print("leaked", len(held), flush=True)
            time.sleep(600)
            """;
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(count.ToString(CultureInfo.InvariantCulture));
        var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        _harness.Note($"leaker pid {process.Id} toward 127.0.0.1:{port}");
        return process;
    }

    private static async Task AcceptAndCloseAsync(Socket listener, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                using var accepted = await listener.AcceptAsync(ct);
                accepted.Close();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static List<JsonElement> Messages(RecordingListener receiver, string alertName, string status) =>
        receiver.To("alertmanager")
            .Select(r => JsonDocument.Parse(r.Body).RootElement.Clone())
            .Where(m => m.GetProperty("status").GetString() == status
                && m.GetProperty("alerts").EnumerateArray().Any(a => a.GetProperty("labels").GetProperty("alertname").GetString() == alertName))
            .ToList();

    private static string Describe(RecordingListener receiver) =>
        $"{receiver.Requests.Count} requests received: " + string.Join(" | ", receiver.Requests.Select(r => r.Body.Length > 300 ? r.Body[..300] : r.Body));
}
