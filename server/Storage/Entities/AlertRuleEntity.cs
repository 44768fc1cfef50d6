using Fleet.Web.Data;

namespace Fleet.Server.Storage.Entities;

/// <summary>An alert rule (alert_rules), as edited in the UI; every change is audited (audit_log, entity "alert-rule").</summary>
public sealed class AlertRuleEntity
{
    public long Id { get; set; }

    public required string Name { get; set; }

    public AlertMetric Metric { get; set; }

    public AlertScopeKind Scope { get; set; }

    public string? Pattern { get; set; }

    public string? Remote { get; set; }

    public double Threshold { get; set; }

    public double Recovery { get; set; }

    /// <summary>How long the condition must hold before pending turns firing (interval).</summary>
    public TimeSpan For { get; set; }

    public AlertSeverity Severity { get; set; }

    public bool Enabled { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public required string UpdatedBy { get; set; }

    public AlertRuleDraft ToDraft() => new(Name, Metric, Scope, Pattern, Remote, Threshold, Recovery, For, Severity, Enabled);

    public AlertRule ToRule() => new(Id, ToDraft(), CreatedAt, UpdatedAt, UpdatedBy);

    public void Apply(AlertRuleDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        Name = draft.Name.Trim();
        Metric = draft.Metric;
        Scope = draft.Scope;
        Pattern = draft.Scope == AlertScopeKind.Fleet || string.IsNullOrWhiteSpace(draft.Pattern) ? null : draft.Pattern.Trim();
        Remote = string.IsNullOrWhiteSpace(draft.Remote) ? null : draft.Remote.Trim();
        Threshold = draft.Threshold;
        Recovery = draft.Recovery;
        For = draft.For;
        Severity = draft.Severity;
        Enabled = draft.Enabled;
    }
}
