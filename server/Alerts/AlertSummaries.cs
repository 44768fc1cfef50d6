using System.Globalization;
using Fleet.Web.Data;

namespace Fleet.Server.Alerts;

/// <summary>The one-line text of an alert, as a person reads it in a list or a notification.</summary>
public static class AlertSummaries
{
    public static string Subject(string host, string? service, int? pid, string? remote)
    {
        var text = service is null ? host : $"{service} on {host}";
        if (pid is { } p)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" (pid {p})");
        }
        if (remote is not null)
        {
            text += " toward " + remote;
        }
        return text;
    }

    public static string Of(AlertMetric metric, double threshold, double value, string host, string? service, int? pid, string? remote)
    {
        var info = AlertMetrics.Of(metric);
        string subject = Subject(host, service, pid, remote);
        string v = Format(value), t = Format(threshold);
        return metric switch
        {
            AlertMetric.ProcessFdPercent or AlertMetric.ServiceFdPercent => $"{subject}: fds at {v}% of the soft limit (threshold {t}%)",
            AlertMetric.ServiceCloseWait or AlertMetric.RemoteCloseWait => $"{subject}: {v} CLOSE_WAIT sockets (threshold {t})",
            AlertMetric.TimeToExhaustion => value >= info.Max
                ? $"{subject}: no fd exhaustion projected (threshold {t} h)"
                : $"{subject}: fds projected to reach the soft limit in {v} h (threshold {t} h)",
            AlertMetric.AgentOffline => $"{subject}: agent silent for {v} min (threshold {t} min)",
            _ => $"{subject}: {info.Label} at {v}{info.Unit} (threshold {t}{info.Unit})",
        };
    }

    /// <summary>The summary with why it resolved without a new value ("rule deleted", "process gone").</summary>
    public static string WithReason(string summary, string reason) => $"{summary} [resolved: {reason}]";

    private static string Format(double value) =>
        Math.Abs(value) >= 100 ? value.ToString("0", CultureInfo.InvariantCulture) : value.ToString("0.#", CultureInfo.InvariantCulture);
}
