using Fleet.Contracts.V1;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Alerts;

/// <summary>A snapshot waiting for evaluation: the host it came from (its registered name) and the whole snapshot.</summary>
public sealed record QueuedSnapshot(string Host, Snapshot Snapshot);

/// <summary>
/// Evaluates the rules and keeps the alerts' state: pending when a condition starts to hold, firing once it held for the
/// rule's duration, resolved when the value crosses the recovery threshold (between recovery and threshold a firing
/// alert stays firing). A pending alert whose condition clears is dropped. A subject no longer reported (process or
/// service gone) resolves. Open alerts live in memory and in the alerts table, which is reloaded at start and after
/// every rule change, so a restart neither loses nor re-fires an alert. Each evaluation saves its changes and the
/// transition sink's rows in one SaveChanges; when that fails nothing is kept and the state is reloaded.
/// Thread-safe: every evaluation holds the <see cref="AlertStateGate"/>. Each tick also handles the end of expired
/// silences (<see cref="Silences.ReleaseEndedAsync"/>).
/// </summary>
public sealed partial class AlertEvaluator(
    IDbContextFactory<FleetDbContext> contexts,
    IAlertTransitionSink sink,
    IProjectionData? projections,
    AlertStateGate gate,
    TimeProvider time,
    IOptions<AlertOptions> options,
    ILogger<AlertEvaluator> logger)
{
    private readonly Dictionary<AlertKey, Tracked> _open = [];
    private readonly Dictionary<string, HashSet<AlertKey>> _openByHost = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _lastCollected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _lastHeard = new(StringComparer.Ordinal);
    private readonly AlertOptions _options = options.Value;
    private List<AlertRuleEntity> _rules = [];
    private long _loadedVersion = -1;
    private DateTimeOffset _lastProjectionRead = DateTimeOffset.MinValue;

    /// <summary>
    /// When this evaluator started: agents cannot be blamed for a silence while the server itself was down (they spool
    /// and reconnect), so a new silent-agent alert counts from here at the earliest; an alert already firing keeps counting
    /// from the host's real last contact.
    /// </summary>
    private readonly DateTimeOffset _startedAt = time.GetUtcNow();

    /// <summary>Open (pending and firing) alerts as the evaluator holds them.</summary>
    public int OpenCount => _open.Count;

    /// <summary>Evaluates the snapshot-based rules on each snapshot (older than one already evaluated for its host: skipped).</summary>
    public async Task EvaluateAsync(IReadOnlyList<QueuedSnapshot> snapshots, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        using var held = await gate.EnterAsync(ct).ConfigureAwait(false);
        await EnsureLoadedAsync(ct).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var batch = new Batch(now);
        foreach (var (host, snapshot) in snapshots)
        {
            var collected = snapshot.CollectedAt?.ToDateTimeOffset() ?? now;
            if (_lastCollected.TryGetValue(host, out var last) && collected <= last)
            {
                continue;
            }
            _lastCollected[host] = collected;
            _lastHeard[host] = now;
            var figures = new AlertFigures(snapshot, host);
            EvaluateHost(host, m => m != AlertMetric.TimeToExhaustion, (rule, metric) => rule.Metric == AlertMetric.RemoteCloseWait && rule.Remote is { } remote
                ? figures.TowardRemote(remote)
                : figures.Of(metric), batch);
        }
        await SaveAsync(batch, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The periodic evaluation: agents gone silent, pending alerts whose duration elapsed without new data, and time
    /// to exhaustion from the projections (at most every <see cref="AlertOptions.ProjectionInterval"/>).
    /// </summary>
    public async Task TickAsync(CancellationToken ct)
    {
        using var held = await gate.EnterAsync(ct).ConfigureAwait(false);
        await EnsureLoadedAsync(ct).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var batch = new Batch(now);
        bool offlineRules = _rules.Any(r => r.Metric == AlertMetric.AgentOffline);
        bool projectionRules = projections is not null && _rules.Any(r => r.Metric == AlertMetric.TimeToExhaustion) && now - _lastProjectionRead >= _options.ProjectionInterval;
        Dictionary<string, DateTimeOffset>? hosts = null;
        if (offlineRules || projectionRules || _open.Values.Any(t => t.Row.Metric is AlertMetric.AgentOffline or AlertMetric.TimeToExhaustion))
        {
            hosts = await HostsAsync(ct).ConfigureAwait(false);
            // Hosts no longer known: their alerts about silence and projections have no subject any more.
            foreach (var t in _open.Values.Where(t => t.Row.Metric is AlertMetric.AgentOffline or AlertMetric.TimeToExhaustion && !hosts.ContainsKey(t.Row.Host)).ToList())
            {
                Gone(t, batch, "host no longer known");
            }
        }
        if (offlineRules && hosts is not null)
        {
            foreach (var (host, seen) in hosts)
            {
                // The database's last contact, or a snapshot evaluated since (ingest updates both; whichever is newer).
                var lastSeen = _lastHeard.TryGetValue(host, out var heard) && heard > seen ? heard : seen;
                double minutes = Math.Max(0, (now - lastSeen).TotalMinutes);
                double sinceStart = Math.Min(minutes, Math.Max(0, (now - _startedAt).TotalMinutes));
                EvaluateHost(
                    host,
                    m => m == AlertMetric.AgentOffline,
                    (rule, _) => [new AlertSubject(null, null, null, _open.ContainsKey(new AlertKey(rule.Id, host, null, null, null)) ? minutes : sinceStart)],
                    batch);
            }
        }
        foreach (var t in _open.Values.Where(t => t.Row.State == AlertState.Pending).ToList())
        {
            // The condition held at the last value and no new value came: the duration still runs.
            if (Rule(t.Row.RuleId) is { } rule && Fires(rule, t.Row.Value) && now - t.Row.StartedAt >= rule.For)
            {
                Fire(t, batch);
            }
        }
        if (projectionRules && hosts is not null)
        {
            _lastProjectionRead = now;
            await EvaluateProjectionsAsync(hosts, batch, ct).ConfigureAwait(false);
        }
        await SaveAsync(batch, ct).ConfigureAwait(false);
        // Silences that expired: the alerts that outlived them are notified now (after this tick's own transitions).
        int released = await Silences.ReleaseEndedAsync(contexts, sink, now, ct).ConfigureAwait(false);
        if (released > 0)
        {
            LogReleased(logger, released);
        }
    }

    /// <summary>
    /// Time-to-exhaustion rules over each host's stored projections. A host silent for longer than
    /// <see cref="HostStatusRule.StaleAfter"/> has no subjects: its projection would extrapolate past its last data
    /// (a leak "at the limit now" on a host that simply stopped reporting), so its alerts resolve and the agent-silent
    /// rule speaks for it.
    /// </summary>
    private async Task EvaluateProjectionsAsync(IReadOnlyDictionary<string, DateTimeOffset> hosts, Batch batch, CancellationToken ct)
    {
        var rules = _rules.Where(r => r.Metric == AlertMetric.TimeToExhaustion).ToList();
        var info = AlertMetrics.Of(AlertMetric.TimeToExhaustion);
        foreach (var (host, seen) in hosts)
        {
            if (!rules.Any(r => r.Scope != AlertScopeKind.HostPattern || Glob.Matches(r.Pattern ?? "", host)))
            {
                continue;
            }
            var lastSeen = _lastHeard.TryGetValue(host, out var heard) && heard > seen ? heard : seen;
            if (batch.Now - lastSeen > HostStatusRule.StaleAfter)
            {
                EvaluateHost(host, m => m == AlertMetric.TimeToExhaustion, (_, _) => [], batch);
                continue;
            }
            IReadOnlyList<ProjectionView> views;
            try
            {
                views = await projections!.HostAsync(host, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Without this host's projections its alerts keep their state until the next read.
                LogProjectionsFailed(logger, e, host);
                continue;
            }
            var subjects = views
                .Where(v => v.Pid is null)
                .Select(v => new AlertSubject(v.Service, null, null, HoursToExhaustion(v, batch.Now, info.Max)))
                .ToList();
            EvaluateHost(host, m => m == AlertMetric.TimeToExhaustion, (_, _) => subjects, batch);
        }
    }

    /// <summary>Hours until the soft limit from now at the projected slope; the metric's maximum when no leak is projected.</summary>
    public static double HoursToExhaustion(ProjectionView view, DateTimeOffset now, double max)
    {
        ArgumentNullException.ThrowIfNull(view);
        return view.Verdict == LeakVerdict.Leak && view.ExhaustedAt is { } at ? Math.Clamp((at - now).TotalHours, 0, max) : max;
    }

    /// <summary>
    /// Evaluates every enabled rule of a metric <paramref name="covers"/> on the host's subjects, then resolves the
    /// host's open alerts of those metrics that no subject reported.
    /// </summary>
    private void EvaluateHost(string host, Func<AlertMetric, bool> covers, Func<AlertRuleEntity, AlertMetric, IReadOnlyList<AlertSubject>> subjectsOf, Batch batch)
    {
        var seen = new HashSet<AlertKey>();
        foreach (var rule in _rules)
        {
            if (!covers(rule.Metric) || (rule.Scope == AlertScopeKind.HostPattern && !Glob.Matches(rule.Pattern ?? "", host)))
            {
                continue;
            }
            foreach (var subject in subjectsOf(rule, rule.Metric))
            {
                if (rule.Scope == AlertScopeKind.Service && !Glob.Matches(rule.Pattern ?? "", subject.Service))
                {
                    continue;
                }
                var key = new AlertKey(rule.Id, host, subject.Service, subject.Pid, subject.Remote);
                if (seen.Add(key))
                {
                    Observe(rule, key, subject.Value, batch);
                }
            }
        }
        var ofHost = _openByHost.TryGetValue(host, out var keys) ? keys.Select(k => _open[k]).Where(t => covers(t.Row.Metric)).ToList() : [];
        foreach (var t in ofHost)
        {
            if (!seen.Contains(t.Key))
            {
                Gone(t, batch, t.Row.Metric == AlertMetric.ProcessFdPercent ? "process gone" : "no longer reported");
            }
        }
    }

    private void Observe(AlertRuleEntity rule, AlertKey key, double value, Batch batch)
    {
        var info = AlertMetrics.Of(rule.Metric);
        double stored = Math.Clamp(value, info.Min, info.Max);
        if (_open.TryGetValue(key, out var t))
        {
            var a = t.Row;
            a.Value = stored;
            a.LastEvaluatedAt = batch.Now;
            a.RuleName = rule.Name;
            a.Threshold = rule.Threshold;
            a.Summary = AlertSummaries.Of(rule.Metric, rule.Threshold, stored, a.Host, a.Service, a.Pid, a.Remote);
            if (a.State == AlertState.Pending)
            {
                a.Severity = rule.Severity;
                if (!Fires(rule, value))
                {
                    Drop(t, batch);
                }
                else if (batch.Now - a.StartedAt >= rule.For)
                {
                    Fire(t, batch);
                }
                else
                {
                    Touch(t, batch);
                }
            }
            else if (Recovers(rule, value))
            {
                Resolve(t, batch, null);
            }
            else
            {
                Touch(t, batch);
            }
            return;
        }
        if (!Fires(rule, value))
        {
            return;
        }
        var row = new AlertEntity
        {
            RuleId = rule.Id,
            RuleName = rule.Name,
            Metric = rule.Metric,
            Severity = rule.Severity,
            State = AlertState.Pending,
            Host = key.Host,
            Service = key.Service,
            Pid = key.Pid,
            Remote = key.Remote,
            Value = stored,
            Threshold = rule.Threshold,
            StartedAt = batch.Now,
            LastEvaluatedAt = batch.Now,
            Summary = AlertSummaries.Of(rule.Metric, rule.Threshold, stored, key.Host, key.Service, key.Pid, key.Remote),
        };
        var added = new Tracked(key, row) { Stored = false };
        AddOpen(added);
        batch.Changed.Add(added);
        if (rule.For <= TimeSpan.Zero)
        {
            Fire(added, batch);
        }
    }

    public static bool Fires(AlertRuleEntity rule, double value)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return AlertMetrics.Of(rule.Metric).FiresBelow ? value <= rule.Threshold : value >= rule.Threshold;
    }

    public static bool Recovers(AlertRuleEntity rule, double value)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return AlertMetrics.Of(rule.Metric).FiresBelow ? value > rule.Recovery : value < rule.Recovery;
    }

    private static void Fire(Tracked t, Batch batch)
    {
        t.Row.State = AlertState.Firing;
        t.Row.FiredAt = batch.Now;
        t.Row.LastEvaluatedAt = batch.Now;
        batch.Changed.Add(t);
        batch.Transitions.Add((t, AlertTransition.Firing, t.Row.ToView()));
    }

    private void Resolve(Tracked t, Batch batch, string? reason)
    {
        t.Row.State = AlertState.Resolved;
        t.Row.ResolvedAt = batch.Now;
        t.Row.LastEvaluatedAt = batch.Now;
        if (reason is not null)
        {
            t.Row.Summary = AlertSummaries.WithReason(t.Row.Summary, reason);
        }
        RemoveOpen(t);
        batch.Changed.Add(t);
        batch.Transitions.Add((t, AlertTransition.Resolved, t.Row.ToView()));
    }

    /// <summary>A pending alert whose condition cleared: it never fired, so it leaves no history.</summary>
    private void Drop(Tracked t, Batch batch)
    {
        RemoveOpen(t);
        batch.Changed.Remove(t);
        if (t.Stored)
        {
            batch.Deleted.Add(t);
        }
    }

    private void Gone(Tracked t, Batch batch, string reason)
    {
        if (t.Row.State == AlertState.Pending)
        {
            Drop(t, batch);
        }
        else
        {
            Resolve(t, batch, reason);
        }
    }

    /// <summary>A new value of an open alert whose state did not change: written at most every <see cref="AlertOptions.ValueRefreshInterval"/>.</summary>
    private void Touch(Tracked t, Batch batch)
    {
        if (!t.Stored || batch.Now - t.PersistedAt >= _options.ValueRefreshInterval)
        {
            batch.Changed.Add(t);
        }
    }

    private void AddOpen(Tracked t)
    {
        _open[t.Key] = t;
        if (!_openByHost.TryGetValue(t.Key.Host, out var keys))
        {
            keys = [];
            _openByHost[t.Key.Host] = keys;
        }
        keys.Add(t.Key);
    }

    private void RemoveOpen(Tracked t)
    {
        _open.Remove(t.Key);
        if (_openByHost.TryGetValue(t.Key.Host, out var keys) && keys.Remove(t.Key) && keys.Count == 0)
        {
            _openByHost.Remove(t.Key.Host);
        }
    }

    private AlertRuleEntity? Rule(long id) => _rules.Find(r => r.Id == id);

    private async Task SaveAsync(Batch batch, CancellationToken ct)
    {
        if (batch.Changed.Count == 0 && batch.Deleted.Count == 0)
        {
            return;
        }
        try
        {
            await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
            var added = batch.Changed.Where(t => !t.Stored).ToList();
            if (added.Count > 0)
            {
                // Ids first, so the transitions (and the sink's rows) name the alerts they are about.
                var ids = await AlertRuleStore.NextIdsAsync(db, "alerts", added.Count, ct).ConfigureAwait(false);
                for (int i = 0; i < added.Count; i++)
                {
                    added[i].Row.Id = ids[i];
                }
            }
            foreach (var t in batch.Changed)
            {
                if (t.Stored)
                {
                    db.Alerts.Update(t.Row);
                }
                else
                {
                    db.Alerts.Add(t.Row);
                }
            }
            foreach (var t in batch.Deleted)
            {
                db.Alerts.Remove(t.Row);
            }
            if (batch.Transitions.Count > 0)
            {
                await sink.AddAsync(db, [.. batch.Transitions.Select(x => new AlertTransition(x.View with { Id = x.Alert.Row.Id }, x.Event, batch.Now))], ct).ConfigureAwait(false);
            }
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            // Nothing of this evaluation was kept: start again from what the database holds.
            _loadedVersion = -1;
            throw;
        }
        foreach (var t in batch.Changed)
        {
            t.Stored = true;
            t.PersistedAt = batch.Now;
        }
        foreach (var (alert, @event, _) in batch.Transitions)
        {
            LogTransition(logger, alert.Row.Id, @event, alert.Row.Severity, alert.Row.RuleName, alert.Row.Summary);
        }
    }

    private async Task EnsureLoadedAsync(CancellationToken ct)
    {
        long version = gate.Version;
        if (version == _loadedVersion)
        {
            return;
        }
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        _rules = await db.AlertRules.AsNoTracking().Where(r => r.Enabled).OrderBy(r => r.Id).ToListAsync(ct).ConfigureAwait(false);
        var open = await db.Alerts.AsNoTracking().Where(a => a.State != AlertState.Resolved).ToListAsync(ct).ConfigureAwait(false);
        _open.Clear();
        _openByHost.Clear();
        var now = time.GetUtcNow();
        foreach (var a in open)
        {
            var key = new AlertKey(a.RuleId, a.Host, a.Service, a.Pid, a.Remote);
            AddOpen(new Tracked(key, a) { Stored = true, PersistedAt = a.LastEvaluatedAt });
        }
        _loadedVersion = version;
        if (open.Count > 0)
        {
            LogLoaded(logger, _rules.Count, open.Count, now);
        }
    }

    private async Task<Dictionary<string, DateTimeOffset>> HostsAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var rows = await db.Hosts.AsNoTracking()
            .GroupBy(h => h.Hostname)
            .Select(g => new { Host = g.Key, LastSeen = g.Max(h => h.LastSeen) })
            .ToListAsync(ct).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Host, r => r.LastSeen, StringComparer.Ordinal);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {Id} {Event} ({Severity}, rule \"{Rule}\"): {Summary}")]
    private static partial void LogTransition(ILogger logger, long id, string @event, AlertSeverity severity, string rule, string summary);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alerts: the end of {Count} silences handled (alerts still firing that they had silenced are notified)")]
    private static partial void LogReleased(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alerts: {Rules} enabled rules, {Open} open alerts loaded at {Now}")]
    private static partial void LogLoaded(ILogger logger, int rules, int open, DateTimeOffset now);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alerts: the projections of host {Host} could not be read; its time-to-exhaustion alerts wait for the next read")]
    private static partial void LogProjectionsFailed(ILogger logger, Exception e, string host);

    private readonly record struct AlertKey(long RuleId, string Host, string? Service, int? Pid, string? Remote);

    private sealed class Tracked(AlertKey key, AlertEntity row)
    {
        public AlertKey Key { get; } = key;

        public AlertEntity Row { get; } = row;

        /// <summary>The row exists in the database (else it is inserted with the next save).</summary>
        public bool Stored { get; set; }

        public DateTimeOffset PersistedAt { get; set; }
    }

    private sealed class Batch(DateTimeOffset now)
    {
        public DateTimeOffset Now { get; } = now;

        public HashSet<Tracked> Changed { get; } = [];

        public List<Tracked> Deleted { get; } = [];

        public List<(Tracked Alert, string Event, AlertView View)> Transitions { get; } = [];
    }
}
