using Fleet.Server.Alerts;
using Fleet.Server.Ingest;
using Fleet.Server.Tests.Dashboard;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Fleet.Server.Tests.Alerts;

/// <summary>The wiring as the server runs it: ingest's observers reach the evaluator's loop, the clock's timer drives the tick.</summary>
public sealed class AlertEvaluationServiceTests(AlertHarness harness) : IClassFixture<AlertHarness>, IAsyncLifetime
{
    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task SnapshotToldToTheObservers_IsEvaluatedByTheLoop_AndTheTimerFiresThePendingAlert()
    {
        var clock = new FakeTimeProvider(AlertHarness.Start);
        var sink = new RecordingSink();
        await using var services = harness.Build(clock, sink);
        var rules = services.GetRequiredService<IAlertRules>();
        var data = services.GetRequiredService<IAlertData>();
        await rules.CreateAsync(new AlertRuleDraft("fds", AlertMetric.ServiceFdPercent, AlertScopeKind.Fleet, null, null, 80, 75, TimeSpan.FromMinutes(1), AlertSeverity.Warning, true), "t", CancellationToken.None)
            .WaitAsync(AlertHarness.Timeout);
        var service = services.GetServices<IHostedService>().OfType<AlertEvaluationService>().Single();
        var interval = services.GetRequiredService<IOptions<AlertOptions>>().Value.TickInterval;
        await service.StartAsync(CancellationToken.None).WaitAsync(AlertHarness.Timeout);
        try
        {
            var snapshot = DashboardSnapshots.Make("loop-1", 1, clock.GetUtcNow(), new Proc("api", 1, 900, 1000));
            foreach (var observer in services.GetServices<IStoredSnapshotObserver>())
            {
                observer.Stored(new AgentRegistration(1, 1, "agent-loop-1", "loop-1", 0), snapshot);
            }
            var pending = await UntilAsync(() => data.ActiveAsync(null, CancellationToken.None), a => a.Count == 1);
            Assert.Equal(AlertState.Pending, pending[0].State);

            // The loop's timer runs on the clock: each advance by the interval is one tick.
            var firing = await UntilAsync(
                async () =>
                {
                    clock.Advance(interval);
                    return await data.ActiveAsync(null, CancellationToken.None);
                },
                a => a is [{ State: AlertState.Firing }]);

            Assert.Equal(pending[0].Id, firing[0].Id);
            Assert.True(firing[0].FiredAt >= AlertHarness.Start.AddMinutes(1));
            Assert.Equal([AlertTransition.Firing], sink.Transitions.Select(t => t.Event));
        }
        finally
        {
            await service.StopAsync(CancellationToken.None).WaitAsync(AlertHarness.Timeout);
        }
    }

    /// <summary>Reads until the condition holds; fails after the deadline (the loop runs on its own thread).</summary>
    private static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        for (int i = 0; ; i++)
        {
            var value = await read().WaitAsync(AlertHarness.Timeout);
            if (done(value))
            {
                return value;
            }
            Assert.True(DateTime.UtcNow < deadline, $"condition not met after {i} reads: {value}");
            await Task.Delay(50);
        }
    }
}
