using Fleet.Contracts.V1;
using Fleet.Server.Alerts;
using Fleet.Server.Storage.Entities;
using Fleet.Server.Tests.Dashboard;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Fleet.Server.Tests.Alerts;

/// <summary>
/// The evaluator as AddAlerts wires it, on the harness's database, with a controlled clock, a recording sink and fake
/// projections; no background loop runs: tests call EvaluateAsync and TickAsync themselves.
/// </summary>
internal sealed class EvaluatorRig : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = AlertHarness.Timeout;

    private readonly AlertHarness _harness;
    private ServiceProvider _services;
    private ulong _sequence;

    public EvaluatorRig(AlertHarness harness)
    {
        _harness = harness;
        _services = harness.Build(Clock, Sink, Projections);
        // Made now, as the server makes it at start (its start time matters to silent agents).
        _ = Evaluator;
    }

    public FakeTimeProvider Clock { get; } = new(AlertHarness.Start);

    public RecordingSink Sink { get; } = new();

    public FakeProjections Projections { get; } = new();

    public AlertEvaluator Evaluator => _services.GetRequiredService<AlertEvaluator>();

    public IAlertRules Rules => _services.GetRequiredService<IAlertRules>();

    public IAlertData Alerts => _services.GetRequiredService<IAlertData>();

    public IServiceProvider Services => _services;

    public Task<AlertRule> RuleAsync(AlertMetric metric, double threshold, double recovery, TimeSpan? @for = null, AlertScopeKind scope = AlertScopeKind.Fleet,
        string? pattern = null, string? remote = null, AlertSeverity severity = AlertSeverity.Warning, string? name = null) =>
        Rules.CreateAsync(new AlertRuleDraft(name ?? $"{metric} {threshold}", metric, scope, pattern, remote, threshold, recovery, @for ?? TimeSpan.Zero, severity, true), "test", CancellationToken.None)
            .WaitAsync(Timeout);

    /// <summary>A snapshot of <paramref name="host"/> collected now, with exactly these processes (see DashboardSnapshots.Make).</summary>
    public Snapshot Snapshot(string host, params Proc[] processes) => DashboardSnapshots.Make(host, ++_sequence, Clock.GetUtcNow(), processes);

    public Task EvaluateAsync(params Snapshot[] snapshots) =>
        Evaluator.EvaluateAsync([.. snapshots.Select(s => new QueuedSnapshot(s.Host.Hostname, s))], CancellationToken.None).WaitAsync(Timeout);

    public Task TickAsync() => Evaluator.TickAsync(CancellationToken.None).WaitAsync(Timeout);

    public Task<IReadOnlyList<AlertView>> ActiveAsync(string? host = null) => Alerts.ActiveAsync(host, CancellationToken.None).WaitAsync(Timeout);

    /// <summary>Every alert stored (open and resolved), newest first.</summary>
    public Task<IReadOnlyList<AlertView>> HistoryAsync(string? host = null) =>
        Alerts.HistoryAsync(new AlertHistoryQuery(AlertHarness.Start.AddDays(-1), AlertHarness.Start.AddDays(30), host), CancellationToken.None).WaitAsync(Timeout);

    /// <summary>A host row as ingest keeps it, last heard from at <paramref name="lastSeen"/>.</summary>
    public async Task HostSeenAsync(string host, DateTimeOffset lastSeen)
    {
        await using var db = await _harness.Contexts.CreateDbContextAsync();
        db.Hosts.Add(new HostEntity { MachineId = "machine-" + host + "-" + Guid.NewGuid().ToString("N"), Hostname = host, FirstSeen = lastSeen, LastSeen = lastSeen });
        await db.SaveChangesAsync().WaitAsync(Timeout);
    }

    /// <summary>A new server process: new services (a new evaluator with empty memory) over the same database and clock.</summary>
    public async Task RestartAsync()
    {
        await _services.DisposeAsync();
        _services = _harness.Build(Clock, Sink, Projections);
        _ = Evaluator;
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
