using Fleet.Web.Data;

namespace Fleet.Server.Storage.Entities;

/// <summary>
/// One alert (alerts): a rule matched by one subject (host; service; pid or remote endpoint). Pending and firing rows
/// are the evaluator's state, reloaded when the server starts; resolved rows are the history. A pending alert whose
/// condition clears is deleted (it never fired). The rule's name, metric and severity are copied so the history
/// outlives the rule.
/// </summary>
public sealed class AlertEntity
{
    public long Id { get; set; }

    public long RuleId { get; set; }

    public required string RuleName { get; set; }

    public AlertMetric Metric { get; set; }

    public AlertSeverity Severity { get; set; }

    public AlertState State { get; set; }

    public required string Host { get; set; }

    public string? Service { get; set; }

    public int? Pid { get; set; }

    /// <summary>"address:port" ("[v6]:port") for CLOSE_WAIT toward a remote endpoint.</summary>
    public string? Remote { get; set; }

    /// <summary>The latest evaluated value, in the metric's unit.</summary>
    public double Value { get; set; }

    public double Threshold { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset? FiredAt { get; set; }

    public DateTimeOffset? ResolvedAt { get; set; }

    public DateTimeOffset LastEvaluatedAt { get; set; }

    public string Summary { get; set; } = "";

    public AlertView ToView() => new(Id, RuleId, RuleName, Metric, Severity, State, Host, Service, Pid, Remote, Value, Threshold, StartedAt, FiredAt, ResolvedAt, LastEvaluatedAt, Summary);
}
