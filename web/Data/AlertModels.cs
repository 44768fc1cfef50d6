namespace Fleet.Web.Data;

/// <summary>What an alert rule watches. Units and direction are in <see cref="AlertMetrics"/>.</summary>
public enum AlertMetric
{
    /// <summary>A process's open fds, % of its soft nofile limit. Subject: host, service, pid.</summary>
    ProcessFdPercent,

    /// <summary>A service instance's worst process, % of its soft limit. Subject: host, service.</summary>
    ServiceFdPercent,

    /// <summary>CLOSE_WAIT sockets of a service instance. Subject: host, service.</summary>
    ServiceCloseWait,

    /// <summary>CLOSE_WAIT sockets of a service instance toward one remote endpoint (the rule's Remote, or each one). Subject: host, service, remote.</summary>
    RemoteCloseWait,

    /// <summary>Hours until a service instance's soft limit at its projected leak slope; fires BELOW the threshold. Subject: host, service.</summary>
    TimeToExhaustion,

    /// <summary>Host file handles allocated, % of fs.file-max. Subject: host.</summary>
    HostFileHandlesPercent,

    /// <summary>Host ephemeral ports in use, % of ip_local_port_range. Subject: host.</summary>
    HostEphemeralPortsPercent,

    /// <summary>Host conntrack entries, % of nf_conntrack_max (hosts without conntrack never match). Subject: host.</summary>
    HostConntrackPercent,

    /// <summary>Host orphan TCP sockets, % of tcp_max_orphans. Subject: host.</summary>
    HostOrphansPercent,

    /// <summary>Minutes since the host's agent last sent a snapshot. Subject: host.</summary>
    AgentOffline,
}

/// <summary>Which subjects a rule covers: every host, hosts whose name matches a glob (* and ?), or one service (glob) on any host.</summary>
public enum AlertScopeKind
{
    Fleet,
    HostPattern,
    Service,
}

public enum AlertSeverity
{
    Warning,
    Critical,
}

/// <summary>Pending: the condition holds but not yet for the rule's duration. Firing: it held long enough. Resolved: it fired and the value crossed the recovery threshold.</summary>
public enum AlertState
{
    Pending,
    Firing,
    Resolved,
}

/// <summary>How a metric is read: its unit, whether it fires above or below the threshold, and the bounds a threshold may take.</summary>
public sealed record AlertMetricInfo(AlertMetric Metric, string Label, string Unit, bool FiresBelow, double Min, double Max, bool NeedsProcess, bool NeedsService, bool AllowsRemote);

public static class AlertMetrics
{
    public static IReadOnlyList<AlertMetricInfo> All { get; } =
    [
        new(AlertMetric.ProcessFdPercent, "Process fds, % of soft limit", "%", false, 0, 100, true, true, false),
        new(AlertMetric.ServiceFdPercent, "Service fds, % of soft limit", "%", false, 0, 100, false, true, false),
        new(AlertMetric.ServiceCloseWait, "Service CLOSE_WAIT sockets", "sockets", false, 0, 10_000_000, false, true, false),
        new(AlertMetric.RemoteCloseWait, "CLOSE_WAIT toward a remote endpoint", "sockets", false, 0, 10_000_000, false, true, true),
        new(AlertMetric.TimeToExhaustion, "Time to fd exhaustion", "hours", true, 0, 24 * 365, false, true, false),
        new(AlertMetric.HostFileHandlesPercent, "Host file handles, % of file-max", "%", false, 0, 100, false, false, false),
        new(AlertMetric.HostEphemeralPortsPercent, "Host ephemeral ports, % of range", "%", false, 0, 100, false, false, false),
        new(AlertMetric.HostConntrackPercent, "Host conntrack, % of max", "%", false, 0, 100, false, false, false),
        new(AlertMetric.HostOrphansPercent, "Host orphan sockets, % of max", "%", false, 0, 100, false, false, false),
        new(AlertMetric.AgentOffline, "Agent silent", "minutes", false, 0, 7 * 24 * 60, false, false, false),
    ];

    public static AlertMetricInfo Of(AlertMetric metric) => All.First(m => m.Metric == metric);
}

/// <summary>
/// A rule as edited: what, where, when it fires and when it recovers. <see cref="Recovery"/> is on the safe side of
/// <see cref="Threshold"/> (below it for metrics that fire above, above it for time to exhaustion), so an alert
/// does not flap around one value. <see cref="For"/> is how long the condition must hold before pending turns firing.
/// </summary>
public sealed record AlertRuleDraft(
    string Name,
    AlertMetric Metric,
    AlertScopeKind Scope,
    string? Pattern,
    string? Remote,
    double Threshold,
    double Recovery,
    TimeSpan For,
    AlertSeverity Severity,
    bool Enabled)
{
    public const int MaxNameLength = 100;
    public const int MaxPatternLength = 200;
    public static readonly TimeSpan MaxFor = TimeSpan.FromDays(1);

    /// <summary>What is wrong with this draft, each naming its field; empty when it may be saved.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(Metric))
        {
            // Nothing else can be judged without knowing the metric's unit and bounds.
            return ["metric: unknown"];
        }

        var info = AlertMetrics.Of(Metric);
        if (string.IsNullOrWhiteSpace(Name))
        {
            errors.Add("name: required");
        }
        else if (Name.Length > MaxNameLength || Name.Any(char.IsControl))
        {
            errors.Add($"name: at most {MaxNameLength} printable characters");
        }

        if (Scope is AlertScopeKind.HostPattern or AlertScopeKind.Service)
        {
            if (string.IsNullOrWhiteSpace(Pattern))
            {
                errors.Add("pattern: required for a host or service scope");
            }
            else if (Pattern.Length > MaxPatternLength || Pattern.Any(char.IsControl))
            {
                errors.Add($"pattern: at most {MaxPatternLength} printable characters");
            }
        }
        else if (!Enum.IsDefined(Scope))
        {
            errors.Add("scope: unknown");
        }

        if (Scope == AlertScopeKind.Service && !info.NeedsService)
        {
            errors.Add("scope: a host metric cannot be scoped to a service");
        }

        if (Remote is { Length: > 0 } && !info.AllowsRemote)
        {
            errors.Add("remote: only CLOSE_WAIT toward a remote endpoint takes one");
        }
        else if (Remote is { Length: > 0 } && (Remote.Length > 60 || Remote.Any(char.IsControl) || !Remote.Contains(':', StringComparison.Ordinal)))
        {
            errors.Add("remote: address:port expected");
        }

        if (!double.IsFinite(Threshold) || Threshold < info.Min || Threshold > info.Max)
        {
            errors.Add($"threshold: between {info.Min} and {info.Max} {info.Unit}");
        }

        if (!double.IsFinite(Recovery) || Recovery < info.Min || Recovery > info.Max)
        {
            errors.Add($"recovery: between {info.Min} and {info.Max} {info.Unit}");
        }
        else if (info.FiresBelow ? Recovery < Threshold : Recovery > Threshold)
        {
            errors.Add(info.FiresBelow ? "recovery: at or above the threshold" : "recovery: at or below the threshold");
        }

        if (For < TimeSpan.Zero || For > MaxFor)
        {
            errors.Add("for: between 0 and 24 hours");
        }

        if (!Enum.IsDefined(Severity))
        {
            errors.Add("severity: unknown");
        }

        return errors;
    }
}

public sealed record AlertRule(long Id, AlertRuleDraft Draft, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <summary>One recorded change: who, when, what it was before and after (JSON, null on create / delete).</summary>
public sealed record AuditEntry(long Id, DateTimeOffset At, string Actor, string Action, string Entity, string? EntityId, string? EntityName, string? BeforeJson, string? AfterJson);

/// <summary>
/// One alert: a rule matched by one subject. Its identity is (rule, host, service, pid, remote); a new alert starts
/// when the condition holds again after it resolved. <see cref="Value"/> is the latest evaluated value.
/// </summary>
public sealed record AlertView(
    long Id,
    long RuleId,
    string RuleName,
    AlertMetric Metric,
    AlertSeverity Severity,
    AlertState State,
    string Host,
    string? Service,
    int? Pid,
    string? Remote,
    double Value,
    double Threshold,
    DateTimeOffset StartedAt,
    DateTimeOffset? FiredAt,
    DateTimeOffset? ResolvedAt,
    DateTimeOffset LastEvaluatedAt,
    string Summary)
{
    /// <summary>The silence covering this alert now (the one that holds longest), or null: its notifications are not sent while it holds.</summary>
    public AlertSilence? Silence { get; init; }
}

/// <summary>Alerts that started in [From, To), optionally of one host or severity, newest first.</summary>
public sealed record AlertHistoryQuery(DateTimeOffset From, DateTimeOffset To, string? Host = null, AlertSeverity? Severity = null, int Limit = 200);

/// <summary>A rule that could not be saved: every problem, each naming its field.</summary>
public sealed class AlertRuleInvalidException(IReadOnlyList<string> errors) : Exception("invalid alert rule: " + string.Join("; ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>Rules, edited in the UI; every change is audited with who made it.</summary>
public interface IAlertRules
{
    Task<IReadOnlyList<AlertRule>> ListAsync(CancellationToken ct);

    Task<AlertRule?> GetAsync(long id, CancellationToken ct);

    /// <exception cref="AlertRuleInvalidException">The draft does not validate.</exception>
    Task<AlertRule> CreateAsync(AlertRuleDraft draft, string actor, CancellationToken ct);

    /// <summary>Null when no such rule.</summary>
    /// <exception cref="AlertRuleInvalidException">The draft does not validate.</exception>
    Task<AlertRule?> UpdateAsync(long id, AlertRuleDraft draft, string actor, CancellationToken ct);

    /// <summary>False when no such rule. Its open alerts resolve.</summary>
    Task<bool> DeleteAsync(long id, string actor, CancellationToken ct);

    /// <summary>Changes to rules and notification channels, newest first.</summary>
    Task<IReadOnlyList<AuditEntry>> AuditAsync(int limit, CancellationToken ct);
}

/// <summary>Alerts as evaluated by the server.</summary>
public interface IAlertData
{
    /// <summary>Pending and firing alerts, of one host or of all (null), firing and critical first.</summary>
    Task<IReadOnlyList<AlertView>> ActiveAsync(string? hostName, CancellationToken ct);

    Task<IReadOnlyList<AlertView>> HistoryAsync(AlertHistoryQuery query, CancellationToken ct);
}

// ---- Silences ----

/// <summary>
/// What an operator asks for to silence alerts: either matchers (a rule or all rules, a host name glob or all, a
/// service glob or any) or one alert's subject (<see cref="AlertId"/>: its rule, host, service, pid and remote endpoint,
/// so a recurrence of the same alert is covered too). It starts now and holds for <see cref="Duration"/>.
/// A silence matching every alert on every host is refused (as Alertmanager refuses an empty matcher set).
/// </summary>
public sealed record AlertSilenceDraft(long? RuleId, string? HostPattern, string? ServicePattern, long? AlertId, TimeSpan Duration, string Reason)
{
    public const int MaxReasonLength = 500;
    public static readonly TimeSpan MinDuration = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(7);

    /// <summary>A pattern that is empty or only stars matches every name: it is no matcher at all.</summary>
    public static bool MatchesAll(string? pattern) => string.IsNullOrWhiteSpace(pattern) || pattern.Trim().All(c => c == '*');

    /// <summary>What is wrong with this draft, each naming its field; empty when it may be saved (the rule and alert are checked on save).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (AlertId is { } alert)
        {
            if (alert <= 0)
            {
                errors.Add("alertId: a positive alert id");
            }
            if (RuleId is not null || !MatchesAll(HostPattern) || !MatchesAll(ServicePattern))
            {
                errors.Add("alertId: either one alert or rule, host and service matchers, not both");
            }
        }
        else
        {
            if (RuleId is <= 0)
            {
                errors.Add("ruleId: a positive rule id, or none for all rules");
            }
            Pattern(errors, "hostPattern", HostPattern);
            Pattern(errors, "servicePattern", ServicePattern);
            if (RuleId is null && MatchesAll(HostPattern) && MatchesAll(ServicePattern))
            {
                errors.Add("matchers: name a rule, a host pattern, a service pattern or one alert; a silence of every alert everywhere is refused");
            }
        }
        if (Duration < MinDuration || Duration > MaxDuration)
        {
            errors.Add("duration: between 5 minutes and 7 days");
        }
        if (string.IsNullOrWhiteSpace(Reason))
        {
            errors.Add("reason: required (say why, for whoever sees the alert silenced)");
        }
        else if (Reason.Trim().Length > MaxReasonLength || Reason.Any(char.IsControl))
        {
            errors.Add($"reason: at most {MaxReasonLength} printable characters");
        }
        return errors;
    }

    private static void Pattern(List<string> errors, string field, string? pattern)
    {
        if (pattern is { } p && (p.Trim().Length > AlertRuleDraft.MaxPatternLength || p.Any(char.IsControl)))
        {
            errors.Add($"{field}: at most {AlertRuleDraft.MaxPatternLength} printable characters");
        }
    }
}

/// <summary>The one alert subject a silence made from an alert covers: the rule is the silence's <see cref="AlertSilence.RuleId"/>.</summary>
public sealed record AlertSilenceSubject(long AlertId, string Host, string? Service, int? Pid, string? Remote);

/// <summary>Active: it holds now. Expired: its end time passed. Ended: an operator ended it early.</summary>
public enum AlertSilenceState
{
    Active,
    Expired,
    Ended,
}

/// <summary>
/// A silence as stored: its matchers (null rule or pattern: all), or one alert's <see cref="Subject"/>; from
/// <see cref="StartsAt"/> until <see cref="EndsAt"/>, or until <see cref="EndedAt"/> when ended early (by
/// <see cref="EndedBy"/>). Silences are kept as history once over.
/// </summary>
public sealed record AlertSilence(
    long Id,
    long? RuleId,
    string? RuleName,
    string? HostPattern,
    string? ServicePattern,
    AlertSilenceSubject? Subject,
    DateTimeOffset StartsAt,
    DateTimeOffset EndsAt,
    string Reason,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? EndedAt,
    string? EndedBy)
{
    /// <summary>When it stops (or stopped) holding.</summary>
    public DateTimeOffset Until => EndedAt is { } ended && ended < EndsAt ? ended : EndsAt;

    public AlertSilenceState StateAt(DateTimeOffset now) =>
        EndedAt is { } ended && ended < EndsAt ? AlertSilenceState.Ended : now >= EndsAt ? AlertSilenceState.Expired : AlertSilenceState.Active;

    public bool IsActiveAt(DateTimeOffset now) => now >= StartsAt && now < Until;

    /// <summary>What it covers, for people: "rule “fds high” · hosts web-* · services api*", or the alert's subject.</summary>
    public string Matchers
    {
        get
        {
            string rule = RuleId is null ? "all rules" : $"rule “{RuleName ?? "#" + RuleId}”";
            if (Subject is { } s)
            {
                return $"{rule} · {s.Host}" + (s.Service is { } svc ? $" / {svc}" : "") + (s.Pid is { } pid ? $" / pid {pid}" : "") + (s.Remote is { } r ? $" / {r}" : "");
            }
            return rule
                + (AlertSilenceDraft.MatchesAll(HostPattern) ? " · all hosts" : $" · hosts {HostPattern}")
                + (AlertSilenceDraft.MatchesAll(ServicePattern) ? "" : $" · services {ServicePattern}");
        }
    }
}

/// <summary>A silence that could not be made: every problem, each naming its field.</summary>
public sealed class AlertSilenceInvalidException(IReadOnlyList<string> errors) : Exception("invalid alert silence: " + string.Join("; ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>
/// Alert silences (operators and admins make and end them; everyone sees them). A silenced alert is still evaluated
/// and shown, but its notifications are logged as suppressed instead of sent; when the silence ends while the alert
/// still fires, its firing notification goes out then. Creating and ending are audited ("alert-silence").
/// </summary>
public interface IAlertSilences
{
    /// <summary>Active silences (ending soonest first), or with <paramref name="includeOver"/> also expired and ended ones (newest first, at most <paramref name="limit"/>).</summary>
    Task<IReadOnlyList<AlertSilence>> ListAsync(bool includeOver, int limit, CancellationToken ct);

    Task<AlertSilence?> GetAsync(long id, CancellationToken ct);

    /// <exception cref="AlertSilenceInvalidException">The draft does not validate, or names an unknown rule or an alert that is not open.</exception>
    Task<AlertSilence> CreateAsync(AlertSilenceDraft draft, string actor, CancellationToken ct);

    /// <summary>Ends it now; null when no such silence. A silence already over is returned as it is (nothing recorded).</summary>
    Task<AlertSilence?> EndAsync(long id, string actor, CancellationToken ct);
}

// ---- Notifications ----

/// <summary>Webhook: Fleet's own JSON. Alertmanager: the Alertmanager webhook format, version 4.</summary>
public enum ChannelKind
{
    Webhook,
    Alertmanager,
}

/// <summary>Where alert notifications go: every firing and resolved transition of alerts at or above <see cref="MinSeverity"/>.</summary>
public sealed record ChannelDraft(string Name, ChannelKind Kind, string Url, AlertSeverity MinSeverity, bool Enabled)
{
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > AlertRuleDraft.MaxNameLength || Name.Any(char.IsControl))
        {
            errors.Add($"name: 1 to {AlertRuleDraft.MaxNameLength} printable characters");
        }

        if (!Enum.IsDefined(Kind))
        {
            errors.Add("kind: unknown");
        }

        if (Url is not { Length: <= 2000 } || !Uri.TryCreate(Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add("url: an absolute http or https URL");
        }

        if (!Enum.IsDefined(MinSeverity))
        {
            errors.Add("minSeverity: unknown");
        }

        return errors;
    }
}

public sealed record NotificationChannel(long Id, ChannelDraft Draft, DateTimeOffset UpdatedAt, string UpdatedBy);

public enum DeliveryStatus
{
    /// <summary>Not yet delivered; retried at <see cref="DeliveryView.NextAttemptAt"/>.</summary>
    Pending,
    Delivered,

    /// <summary>Given up after the last attempt.</summary>
    Failed,

    /// <summary>Not sent: a silence covered the alert (<see cref="DeliveryView.LastError"/> says which, "silenced by #12").</summary>
    Suppressed,
}

/// <summary>One notification of one alert transition ("firing" or "resolved") to one channel, and how its attempts went.</summary>
public sealed record DeliveryView(
    long Id,
    long ChannelId,
    string ChannelName,
    long AlertId,
    string RuleName,
    string Subject,
    string Event,
    DeliveryStatus Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastAttemptAt,
    DateTimeOffset? NextAttemptAt,
    int? LastStatusCode,
    string? LastError);

public sealed class ChannelInvalidException(IReadOnlyList<string> errors) : Exception("invalid notification channel: " + string.Join("; ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>Notification channels (audited like rules) and the delivery log.</summary>
public interface INotificationChannels
{
    Task<IReadOnlyList<NotificationChannel>> ListAsync(CancellationToken ct);

    /// <exception cref="ChannelInvalidException">The draft does not validate.</exception>
    Task<NotificationChannel> CreateAsync(ChannelDraft draft, string actor, CancellationToken ct);

    /// <exception cref="ChannelInvalidException">The draft does not validate.</exception>
    Task<NotificationChannel?> UpdateAsync(long id, ChannelDraft draft, string actor, CancellationToken ct);

    Task<bool> DeleteAsync(long id, string actor, CancellationToken ct);

    /// <summary>Deliveries, newest first, of one channel or of all (null).</summary>
    Task<IReadOnlyList<DeliveryView>> DeliveriesAsync(long? channelId, int limit, CancellationToken ct);
}

/// <summary>Who is making a change, for the audit log: the signed-in user (and API token) in the server.</summary>
public interface IActorAccessor
{
    string CurrentActor();
}

/// <summary>
/// The actor of a host without sign-in (component tests, stores used alone). The server replaces it with its
/// signed-in actor (Fleet.Server.Access), which names the user of the circuit or request, and the API token used.
/// </summary>
public sealed class AnonymousActor : IActorAccessor
{
    public const string Name = "anonymous (no sign-in yet)";

    public string CurrentActor() => Name;
}
