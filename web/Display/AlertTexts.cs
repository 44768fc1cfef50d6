using System.Globalization;
using Fleet.Web.Data;
using MudBlazor;

namespace Fleet.Web.Display;

/// <summary>Alert figures in their metric's unit ("87%", "1.2k sockets", "3.5 hours", "12 minutes"), and severity colours.</summary>
public static class AlertTexts
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>A value of <paramref name="metric"/> with its unit.</summary>
    public static string Value(AlertMetric metric, double value)
    {
        if (!double.IsFinite(value))
        {
            return "–";
        }
        var info = AlertMetrics.Of(metric);
        return info.Unit switch
        {
            "%" => Figures.Percent(value),
            "sockets" => Figures.Count(value) + " sockets",
            "hours" => Number(value) + " h",
            "minutes" => Number(value) + " min",
            _ => Number(value) + " " + info.Unit,
        };
    }

    /// <summary>The condition as a person reads it: "over 80%", "under 24 h".</summary>
    public static string Condition(AlertMetric metric, double threshold) =>
        (AlertMetrics.Of(metric).FiresBelow ? "under " : "over ") + Value(metric, threshold);

    /// <summary>"warning" / "critical" (the data-severity attribute form).</summary>
    public static string Name(AlertSeverity severity) => severity.ToString().ToLowerInvariant();

    public static string Name(AlertState state) => state.ToString().ToLowerInvariant();

    public static Color Color(AlertSeverity severity) => severity == AlertSeverity.Critical ? MudBlazor.Color.Error : MudBlazor.Color.Warning;

    public static string TextClass(AlertSeverity severity) => severity == AlertSeverity.Critical ? "mud-error-text" : "mud-warning-text";

    public static Color Color(AlertState state) => state switch
    {
        AlertState.Firing => MudBlazor.Color.Error,
        AlertState.Pending => MudBlazor.Color.Warning,
        _ => MudBlazor.Color.Success,
    };

    /// <summary>Where the alert is: "web-1 · api · pid 42 · 10.0.3.7:443" (the parts it has).</summary>
    public static string Subject(AlertView alert)
    {
        var parts = new List<string> { alert.Host };
        if (alert.Service is { Length: > 0 } service)
        {
            parts.Add(service);
        }
        if (alert.Pid is { } pid)
        {
            parts.Add("pid " + pid.ToString(Inv));
        }
        if (alert.Remote is { Length: > 0 } remote)
        {
            parts.Add(remote);
        }
        return string.Join(" · ", parts);
    }

    /// <summary>Where a rule applies: "the fleet", "hosts web-*", "service api".</summary>
    public static string Scope(AlertRuleDraft draft) => draft.Scope switch
    {
        AlertScopeKind.HostPattern => "hosts " + draft.Pattern,
        AlertScopeKind.Service => "service " + draft.Pattern,
        _ => "the fleet",
    };

    private static string Number(double value) =>
        Math.Abs(value) >= 100 ? Math.Round(value).ToString("0", Inv) : value.ToString("0.##", Inv);
}
