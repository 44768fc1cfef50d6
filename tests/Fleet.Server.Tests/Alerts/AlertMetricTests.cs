using Fleet.Server.Alerts;
using Fleet.Server.Tests.Dashboard;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Alerts;

/// <summary>Each metric computed from a built snapshot (or the projections, or the clock), and the rule scopes.</summary>
public sealed class AlertMetricTests(AlertHarness harness) : IClassFixture<AlertHarness>, IAsyncLifetime
{
    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task ProcessAndServiceMetrics_FromTheSnapshot_PerProcessPerServiceAndPerRemote()
    {
        await using var rig = new EvaluatorRig(harness);
        var process = await rig.RuleAsync(AlertMetric.ProcessFdPercent, 50, 40);
        var service = await rig.RuleAsync(AlertMetric.ServiceFdPercent, 50, 40);
        var closeWait = await rig.RuleAsync(AlertMetric.ServiceCloseWait, 5, 2);
        var eachRemote = await rig.RuleAsync(AlertMetric.RemoteCloseWait, 3, 1);
        var oneRemote = await rig.RuleAsync(AlertMetric.RemoteCloseWait, 1, 0, remote: "10.0.0.2:80");

        await rig.EvaluateAsync(rig.Snapshot("metrics-1",
            new Proc("api", 10, 600, 1000, ("10.0.0.1", 443, 4)),
            new Proc("api", 11, 100, 1000, ("10.0.0.1", 443, 2), ("10.0.0.2", 80, 1)),
            new Proc("worker", 20, 700, 2000, ("10.0.0.3", 5432, 3), ("2001:db8::1", 443, 4))));

        var expected = new HashSet<(long, string?, int?, string?, double)>
        {
            (process.Id, "api", 10, null, 600 * 100.0 / 1000),
            (service.Id, "api", null, null, 600 * 100.0 / 1000),
            (closeWait.Id, "api", null, null, 4 + 2 + 1),
            (closeWait.Id, "worker", null, null, 3 + 4),
            (eachRemote.Id, "api", null, "10.0.0.1:443", 4 + 2),
            (eachRemote.Id, "worker", null, "10.0.0.3:5432", 3),
            (eachRemote.Id, "worker", null, "[2001:db8::1]:443", 4),
            (oneRemote.Id, "api", null, "10.0.0.2:80", 1),
        };
        var active = await rig.ActiveAsync("metrics-1");
        Assert.Equal(expected, active.Select(a => (a.RuleId, a.Service, a.Pid, a.Remote, a.Value)).ToHashSet());
        Assert.All(active, a => Assert.Equal(AlertState.Firing, a.State));
    }

    [Fact]
    public async Task HostMetrics_AreShareOfTheirLimit_AndAHostWithoutConntrackNeverMatches()
    {
        await using var rig = new EvaluatorRig(harness);
        var files = await rig.RuleAsync(AlertMetric.HostFileHandlesPercent, 90, 85);
        var ports = await rig.RuleAsync(AlertMetric.HostEphemeralPortsPercent, 80, 70);
        var conntrack = await rig.RuleAsync(AlertMetric.HostConntrackPercent, 0, 0);
        var orphans = await rig.RuleAsync(AlertMetric.HostOrphansPercent, 80, 70);
        var full = rig.Snapshot("host-full", new Proc("api", 10, 10, 1000));
        full.System.FileHandlesAllocated = 950_000;
        full.System.FileHandlesMax = 1_000_000;
        full.System.EphemeralPortLow = 32768;
        full.System.EphemeralPortHigh = 60999;
        full.System.EphemeralPortsInUse = 25_000;
        full.System.TcpOrphans = 60_000;
        full.System.TcpMaxOrphans = 65_536;
        full.System.ConntrackPresent = true;
        full.System.ConntrackCount = 250_000;
        full.System.ConntrackMax = 262_144;
        var noConntrack = rig.Snapshot("host-no-conntrack", new Proc("api", 10, 10, 1000));
        noConntrack.System.ConntrackPresent = false;
        noConntrack.System.ConntrackCount = 0;
        noConntrack.System.ConntrackMax = 0;
        var quiet = rig.Snapshot("host-quiet", new Proc("api", 10, 10, 1000));

        await rig.EvaluateAsync(full, noConntrack, quiet);

        Assert.Equal(
            new HashSet<(long, string, double)>
            {
                (files.Id, "host-full", 950_000 * 100.0 / 1_000_000),
                (ports.Id, "host-full", 25_000 * 100.0 / (60999 - 32768 + 1)),
                (orphans.Id, "host-full", 60_000 * 100.0 / 65_536),
                (conntrack.Id, "host-full", 250_000 * 100.0 / 262_144),
                // A threshold of 0 matches every host that has the table: host-quiet does, host-no-conntrack does not.
                (conntrack.Id, "host-quiet", quiet.System.ConntrackCount * 100.0 / quiet.System.ConntrackMax),
            },
            (await rig.ActiveAsync()).Select(a => (a.RuleId, a.Host, a.Value)).ToHashSet());
        Assert.All(await rig.ActiveAsync(), a => Assert.Equal(((string?)null, (int?)null), (a.Service, a.Pid)));
    }

    [Fact]
    public async Task AgentSilent_FiresOnTheTickOnceSilentLongEnough_AndResolvesWhenASnapshotArrives()
    {
        await using var rig = new EvaluatorRig(harness);
        await rig.RuleAsync(AlertMetric.AgentOffline, 2, 1, severity: AlertSeverity.Critical);
        var t0 = rig.Clock.GetUtcNow();
        await rig.HostSeenAsync("quiet-1", t0);
        await rig.HostSeenAsync("chatty-1", t0.AddMinutes(2));

        rig.Clock.Advance(TimeSpan.FromMinutes(2) - TimeSpan.FromSeconds(1));
        await rig.TickAsync();
        Assert.Empty(await rig.ActiveAsync());
        rig.Clock.Advance(TimeSpan.FromSeconds(1));
        await rig.TickAsync();
        var silent = Assert.Single(await rig.ActiveAsync());
        // chatty-1, heard from 2 minutes later, goes silent too from then on.
        rig.Clock.Advance(TimeSpan.FromMinutes(3));
        await rig.TickAsync();
        var longer = Assert.Single(await rig.ActiveAsync("quiet-1"));
        var chatty = Assert.Single(await rig.ActiveAsync("chatty-1"));
        await rig.EvaluateAsync(rig.Snapshot("quiet-1", new Proc("api", 10, 10, 1000)));
        rig.Clock.Advance(TimeSpan.FromSeconds(15));
        await rig.TickAsync();

        Assert.Equal(("quiet-1", AlertState.Firing, 2.0, AlertSeverity.Critical, t0.AddMinutes(2)), (silent.Host, silent.State, silent.Value, silent.Severity, silent.FiredAt!.Value));
        Assert.Equal((silent.Id, 5.0), (longer.Id, longer.Value));
        // Judged at the next tick after it had been silent 2 minutes.
        Assert.Equal(t0.AddMinutes(5), chatty.FiredAt);
        Assert.Equal([chatty.Id], (await rig.ActiveAsync()).Select(a => a.Id));
        Assert.Equal([(AlertTransition.Firing, silent.Id), (AlertTransition.Resolved, silent.Id)], rig.Sink.Transitions.Where(t => t.Alert.Host == "quiet-1").Select(t => (t.Event, t.Alert.Id)));
    }

    [Fact]
    public async Task AgentSilent_AfterAServerRestart_CountsNewSilenceFromTheStart_ButAFiringAlertKeepsFiring()
    {
        await using var rig = new EvaluatorRig(harness);
        await rig.RuleAsync(AlertMetric.AgentOffline, 2, 1);
        var t0 = rig.Clock.GetUtcNow();
        await rig.HostSeenAsync("dead-1", t0);
        rig.Clock.Advance(TimeSpan.FromMinutes(3));
        await rig.TickAsync();
        var firing = Assert.Single(await rig.ActiveAsync());
        // The server is down for 10 minutes; meanwhile "spooling-1" was last heard from at its shutdown.
        await rig.HostSeenAsync("spooling-1", rig.Clock.GetUtcNow());
        rig.Clock.Advance(TimeSpan.FromMinutes(10));

        await rig.RestartAsync();
        await rig.TickAsync();
        var atStart = await rig.ActiveAsync();
        rig.Clock.Advance(TimeSpan.FromMinutes(2));
        await rig.TickAsync();

        Assert.Equal([(firing.Id, "dead-1", AlertState.Firing, 13.0)], atStart.Select(a => (a.Id, a.Host, a.State, a.Value)));
        // Still silent 2 minutes after the server came back: now it is the agent.
        var now = await rig.ActiveAsync("spooling-1");
        Assert.Equal((AlertState.Firing, 2.0), (Assert.Single(now).State, now[0].Value));
        Assert.Equal([firing.Id], rig.Sink.Transitions.Where(t => t.Alert.Host == "dead-1").Select(t => t.Alert.Id));
    }

    [Fact]
    public async Task TimeToExhaustion_FromTheProjections_FiresBelowTheThreshold_HoldsUntilAboveRecovery_ReadAtTheProjectionInterval()
    {
        await using var rig = new EvaluatorRig(harness);
        var rule = await rig.RuleAsync(AlertMetric.TimeToExhaustion, 2, 3, severity: AlertSeverity.Critical);
        var now = rig.Clock.GetUtcNow();
        await rig.HostSeenAsync("leaky-1", now);
        var processLevel = FakeProjections.Instance("leaky-1", "api", now, now.AddMinutes(30)) with { Pid = 77 };
        rig.Projections.Set("leaky-1",
            FakeProjections.Instance("leaky-1", "api", now.AddMinutes(-1), now.AddMinutes(90)),
            FakeProjections.Instance("leaky-1", "worker", now, now.AddHours(10)),
            FakeProjections.Instance("leaky-1", "cache", now, null),
            processLevel);

        await rig.TickAsync();
        var firing = Assert.Single(await rig.ActiveAsync());
        int reads = rig.Projections.Reads;
        rig.Clock.Advance(TimeSpan.FromSeconds(15));
        await rig.TickAsync();
        Assert.Equal(reads, rig.Projections.Reads);
        // 2.5 h left: above the threshold, below recovery: still firing.
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        now = rig.Clock.GetUtcNow();
        rig.Projections.Set("leaky-1", FakeProjections.Instance("leaky-1", "api", now, now.AddHours(2.5)));
        await rig.TickAsync();
        var held = Assert.Single(await rig.ActiveAsync());
        rig.Clock.Advance(TimeSpan.FromMinutes(1));
        now = rig.Clock.GetUtcNow();
        rig.Projections.Set("leaky-1", FakeProjections.Instance("leaky-1", "api", now, null));
        await rig.TickAsync();

        Assert.Equal((rule.Id, "api", (int?)null, AlertState.Firing, 1.5), (firing.RuleId, firing.Service, firing.Pid, firing.State, firing.Value));
        Assert.Equal((firing.Id, AlertState.Firing, 2.5), (held.Id, held.State, held.Value));
        Assert.Equal(reads + 2, rig.Projections.Reads);
        Assert.Empty(await rig.ActiveAsync());
        Assert.Equal([AlertTransition.Firing, AlertTransition.Resolved], rig.Sink.Transitions.Select(t => t.Event));
    }

    [Fact]
    public async Task TimeToExhaustion_OfAHostSilentPastStale_IsNotEvaluated_AndItsAlertResolves()
    {
        await using var rig = new EvaluatorRig(harness);
        await rig.RuleAsync(AlertMetric.TimeToExhaustion, 2, 3, severity: AlertSeverity.Critical);
        var now = rig.Clock.GetUtcNow();
        // Both hosts project the same leak 30 min away; "quiet-1" last reported 20 minutes ago.
        await rig.HostSeenAsync("live-1", now);
        await rig.HostSeenAsync("quiet-1", now - HostStatusRule.StaleAfter - TimeSpan.FromMinutes(5));
        rig.Projections.Set("live-1", FakeProjections.Instance("live-1", "api", now, now.AddMinutes(30)));
        rig.Projections.Set("quiet-1", FakeProjections.Instance("quiet-1", "api", now, now.AddMinutes(30)));

        await rig.TickAsync();
        Assert.Equal(["live-1"], (await rig.ActiveAsync()).Select(a => a.Host));

        // The live host falls silent too: its alert resolves instead of reading "at the limit now" from old data.
        rig.Clock.Advance(HostStatusRule.StaleAfter + TimeSpan.FromMinutes(1));
        await rig.TickAsync();

        Assert.Empty(await rig.ActiveAsync());
        Assert.Equal([("live-1", AlertTransition.Firing), ("live-1", AlertTransition.Resolved)],
            rig.Sink.Transitions.Select(t => (t.Alert.Host, t.Event)));
    }

    [Fact]
    public async Task HostPatternScope_MatchesHostNamesByGlob_CaseInsensitive()
    {
        await using var rig = new EvaluatorRig(harness);
        await rig.RuleAsync(AlertMetric.ServiceFdPercent, 50, 40, scope: AlertScopeKind.HostPattern, pattern: "web-?1*");

        await rig.EvaluateAsync(
            rig.Snapshot("web-a1", new Proc("api", 10, 900, 1000)),
            rig.Snapshot("WEB-B1.eu", new Proc("api", 10, 900, 1000)),
            rig.Snapshot("web-1", new Proc("api", 10, 900, 1000)),
            rig.Snapshot("db-a1", new Proc("api", 10, 900, 1000)));

        Assert.Equal(["WEB-B1.eu", "web-a1"], (await rig.ActiveAsync()).Select(a => a.Host).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ServiceScope_MatchesServiceNamesByGlob_OnEveryHost()
    {
        await using var rig = new EvaluatorRig(harness);
        await rig.RuleAsync(AlertMetric.ProcessFdPercent, 50, 40, scope: AlertScopeKind.Service, pattern: "api?");

        await rig.EvaluateAsync(
            rig.Snapshot("svc-1", new Proc("api1", 10, 900, 1000), new Proc("api12", 11, 900, 1000), new Proc("worker", 12, 900, 1000)),
            rig.Snapshot("svc-2", new Proc("API2", 20, 900, 1000)));

        Assert.Equal([("svc-1", "api1", 10), ("svc-2", "API2", 20)], (await rig.ActiveAsync()).Select(a => (a.Host, a.Service!, a.Pid!.Value)).Order());
    }

    [Theory]
    [InlineData("web-*", "web-1", true)]
    [InlineData("web-*", "web-", true)]
    [InlineData("web-*", "db-web-1", false)]
    [InlineData("*-db", "eu-1-db", true)]
    [InlineData("*-db", "eu-1-db2", false)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    [InlineData("h?st", "host", true)]
    [InlineData("h?st", "hst", false)]
    [InlineData("HOST", "host", true)]
    [InlineData("*", "", true)]
    [InlineData("", "x", false)]
    public void Glob_MatchesTheWholeNameWithStarAndQuestionMark(string pattern, string name, bool matches) =>
        Assert.Equal(matches, Glob.Matches(pattern, name));
}
