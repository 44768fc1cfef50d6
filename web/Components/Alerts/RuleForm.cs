using Fleet.Web.Data;

namespace Fleet.Web.Components.Alerts;

/// <summary>The rule dialog's fields as edited (duration in minutes); <see cref="ToDraft"/> gives what is validated and saved.</summary>
public sealed class RuleForm
{
    public string Name { get; set; } = "";

    public AlertMetric Metric { get; set; } = AlertMetric.ServiceFdPercent;

    public AlertScopeKind Scope { get; set; } = AlertScopeKind.Fleet;

    public string? Pattern { get; set; }

    public string? Remote { get; set; }

    public double Threshold { get; set; } = 80;

    public double Recovery { get; set; } = 75;

    public double ForMinutes { get; set; } = 5;

    public AlertSeverity Severity { get; set; } = AlertSeverity.Warning;

    public bool Enabled { get; set; } = true;

    public static RuleForm From(AlertRuleDraft d) => new()
    {
        Name = d.Name,
        Metric = d.Metric,
        Scope = d.Scope,
        Pattern = d.Pattern,
        Remote = d.Remote,
        Threshold = d.Threshold,
        Recovery = d.Recovery,
        ForMinutes = d.For.TotalMinutes,
        Severity = d.Severity,
        Enabled = d.Enabled,
    };

    /// <summary>The draft: a pattern only for a host or service scope, a remote only for a metric that takes one.</summary>
    public AlertRuleDraft ToDraft() => new(
        Name.Trim(),
        Metric,
        Scope,
        Scope == AlertScopeKind.Fleet || string.IsNullOrWhiteSpace(Pattern) ? null : Pattern.Trim(),
        AlertMetrics.Of(Metric).AllowsRemote && !string.IsNullOrWhiteSpace(Remote) ? Remote.Trim() : null,
        Threshold,
        Recovery,
        double.IsFinite(ForMinutes) && Math.Abs(ForMinutes) < 1e6 ? TimeSpan.FromMinutes(ForMinutes) : TimeSpan.MaxValue,
        Severity,
        Enabled);

    /// <summary>A new rule's threshold and recovery when its metric changes: sensible for the unit and direction.</summary>
    public void DefaultsFor(AlertMetric metric)
    {
        Metric = metric;
        var info = AlertMetrics.Of(metric);
        (Threshold, Recovery) = info.Unit switch
        {
            "%" => (80.0, 75.0),
            "sockets" => (100.0, 50.0),
            "hours" => (24.0, 36.0),
            "minutes" => (5.0, 2.0),
            _ => (info.Max / 2, info.Max / 4),
        };
        if (!info.NeedsService && Scope == AlertScopeKind.Service)
        {
            Scope = AlertScopeKind.Fleet;
        }
    }
}
