using Fleet.Server.Alerts;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Server.Tests.Alerts;

public sealed class DefaultAlertRulesTests(AlertHarness harness) : IClassFixture<AlertHarness>
{
    [Fact]
    public async Task FreshDatabase_HasTheDefaultRulesEnabledAndValid_AndTheyStayDeletedOnceDeleted()
    {
        var rules = harness.Services.GetRequiredService<IAlertRules>();

        var seeded = await rules.ListAsync(CancellationToken.None).WaitAsync(AlertHarness.Timeout);

        Assert.Equal(DefaultAlertRules.All.Select(d => (d.Id, d.Draft)), seeded.Select(r => (r.Id, r.Draft)));
        Assert.All(seeded, r => Assert.True(r.Draft.Enabled));
        Assert.All(seeded, r => Assert.Empty(r.Draft.Validate()));
        // The examples: 80% for 5 minutes warns, 95% is critical; under 24 h warns, under 2 h is critical.
        Assert.Contains(seeded, r => r.Draft is { Metric: AlertMetric.ServiceFdPercent, Threshold: 80, Severity: AlertSeverity.Warning } && r.Draft.For == TimeSpan.FromMinutes(5));
        Assert.Contains(seeded, r => r.Draft is { Metric: AlertMetric.ServiceFdPercent, Threshold: 95, Severity: AlertSeverity.Critical });
        Assert.Contains(seeded, r => r.Draft is { Metric: AlertMetric.TimeToExhaustion, Threshold: 24, Severity: AlertSeverity.Warning });
        Assert.Contains(seeded, r => r.Draft is { Metric: AlertMetric.TimeToExhaustion, Threshold: 2, Severity: AlertSeverity.Critical });

        Assert.True(await rules.DeleteAsync(1, "alice", CancellationToken.None).WaitAsync(AlertHarness.Timeout));
        // Migrating again (a restart) does not bring it back.
        await harness.Services.GetRequiredService<Fleet.Server.Storage.DatabaseMigrator>().MigrateAsync(CancellationToken.None).WaitAsync(AlertHarness.Timeout);
        Assert.DoesNotContain(1L, (await rules.ListAsync(CancellationToken.None).WaitAsync(AlertHarness.Timeout)).Select(r => r.Id));
    }
}
