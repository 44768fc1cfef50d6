using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Fleet.Server.Alerts;
using Fleet.Server.Storage;
using Fleet.Web.Data;

namespace Fleet.Server.Notifications;

/// <summary>
/// The bodies sent for an alert transition: Fleet's own JSON (<see cref="ChannelKind.Webhook"/>) or the Alertmanager
/// webhook message, version 4 (<see cref="ChannelKind.Alertmanager"/>), with links to Fleet's page of the subject.
/// Written with System.Text.Json: any string (quotes, newlines, any script) is escaped; NUL and unpaired surrogates,
/// which PostgreSQL's jsonb and text refuse, become U+FFFD.
/// </summary>
public sealed class NotificationPayloads(Uri publicBase)
{
    /// <summary>Alertmanager's "not ended" time (Go's zero time), sent as endsAt while an alert fires.</summary>
    public const string ZeroTime = "0001-01-01T00:00:00Z";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public Uri PublicBase { get; } = publicBase;

    public string Build(ChannelKind kind, string channelName, AlertTransition transition) => kind switch
    {
        ChannelKind.Alertmanager => Alertmanager(channelName, transition),
        _ => Webhook(transition),
    };

    /// <summary>Fleet's generic JSON: one alert, every figure of it, and a link to its page.</summary>
    public string Webhook(AlertTransition transition)
    {
        CheckEvent(transition);
        var a = transition.Alert;
        var info = AlertMetrics.All.FirstOrDefault(m => m.Metric == a.Metric);
        var body = new WebhookMessage(
            Version: "1",
            Event: transition.Event,
            At: transition.At.ToUniversalTime(),
            AlertId: a.Id,
            RuleId: a.RuleId,
            Rule: Clean(a.RuleName),
            Metric: a.Metric,
            Unit: info?.Unit,
            Severity: a.Severity,
            State: a.State,
            Host: Clean(a.Host),
            Service: CleanOrNull(a.Service),
            Pid: a.Pid,
            Remote: CleanOrNull(a.Remote),
            Value: Finite(a.Value),
            Threshold: Finite(a.Threshold),
            StartedAt: a.StartedAt.ToUniversalTime(),
            FiredAt: a.FiredAt?.ToUniversalTime(),
            ResolvedAt: a.ResolvedAt?.ToUniversalTime(),
            Summary: Clean(a.Summary),
            Subject: Clean(Subject(a)),
            Url: PageUrl(a));
        return JsonSerializer.Serialize(body, Json);
    }

    /// <summary>
    /// The Alertmanager webhook message (version 4) as Alertmanager itself sends it, for one alert: the group is that
    /// alert (as with Alertmanager's <c>group_by: ['...']</c>), so groupLabels and commonLabels are its labels and the
    /// groupKey is unique to it. The fingerprint is Alertmanager's (FNV-1a of the sorted labels), the same for the
    /// firing and the resolved message of one alert.
    /// </summary>
    public string Alertmanager(string receiver, AlertTransition transition)
    {
        CheckEvent(transition);
        var a = transition.Alert;
        var labels = Labels(a);
        var annotations = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["summary"] = Clean(a.Summary),
            ["description"] = Clean(Description(a)),
        };
        bool resolved = transition.Event == AlertTransition.Resolved;
        var alert = new AlertmanagerAlert(
            Status: transition.Event,
            Labels: labels,
            Annotations: annotations,
            StartsAt: GoTime(a.FiredAt ?? a.StartedAt),
            EndsAt: resolved ? GoTime(a.ResolvedAt ?? transition.At) : ZeroTime,
            GeneratorUrl: PageUrl(a),
            Fingerprint: Fingerprint(labels));
        var message = new AlertmanagerMessage(
            Receiver: Clean(receiver),
            Status: transition.Event,
            Alerts: [alert],
            GroupLabels: labels,
            CommonLabels: labels,
            CommonAnnotations: annotations,
            ExternalUrl: PublicBase.ToString().TrimEnd('/'),
            Version: "4",
            GroupKey: "{}:" + LabelSetString(labels),
            TruncatedAlerts: 0);
        return JsonSerializer.Serialize(message, Json);
    }

    /// <summary>alertname, severity, and the subject's host, service, pid and remote as present.</summary>
    public static SortedDictionary<string, string> Labels(AlertView a)
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["alertname"] = Clean(a.RuleName),
            ["severity"] = a.Severity == AlertSeverity.Critical ? "critical" : "warning",
        };
        if (!string.IsNullOrEmpty(a.Host))
        {
            labels["host"] = Clean(a.Host);
        }
        if (!string.IsNullOrEmpty(a.Service))
        {
            labels["service"] = Clean(a.Service);
        }
        if (a.Pid is { } pid)
        {
            labels["pid"] = pid.ToString(CultureInfo.InvariantCulture);
        }
        if (!string.IsNullOrEmpty(a.Remote))
        {
            labels["remote"] = Clean(a.Remote);
        }
        return labels;
    }

    /// <summary>Fleet's page of the alert's subject: the host (focused on the service), or the service across hosts.</summary>
    public string PageUrl(AlertView a)
    {
        string path = !string.IsNullOrEmpty(a.Host)
            ? "hosts/" + Uri.EscapeDataString(Clean(a.Host)) + (string.IsNullOrEmpty(a.Service) ? "" : "?service=" + Uri.EscapeDataString(Clean(a.Service)))
            : "services/" + Uri.EscapeDataString(Clean(a.Service ?? ""));
        return new Uri(PublicBase, path).AbsoluteUri;
    }

    /// <summary>"host / service / pid 42 / remote 10.0.3.7:443", as present.</summary>
    public static string Subject(AlertView a)
    {
        var sb = new StringBuilder(a.Host);
        if (!string.IsNullOrEmpty(a.Service))
        {
            sb.Append(" / ").Append(a.Service);
        }
        if (a.Pid is { } pid)
        {
            sb.Append(" / pid ").Append(pid.ToString(CultureInfo.InvariantCulture));
        }
        if (!string.IsNullOrEmpty(a.Remote))
        {
            sb.Append(" / remote ").Append(a.Remote);
        }
        return Clean(sb.ToString());
    }

    /// <summary>Alertmanager's fingerprint of a label set: FNV-1a 64 over the sorted names and values, each followed by 0xff, as 16 hex digits.</summary>
    public static string Fingerprint(IReadOnlyDictionary<string, string> labels)
    {
        const ulong offset = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        ulong h = offset;
        foreach (var (name, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            foreach (byte b in Encoding.UTF8.GetBytes(name))
            {
                h = (h ^ b) * prime;
            }
            h = (h ^ 0xff) * prime;
            foreach (byte b in Encoding.UTF8.GetBytes(value))
            {
                h = (h ^ b) * prime;
            }
            h = (h ^ 0xff) * prime;
        }
        return h.ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>A label set as Alertmanager prints it in a group key: {a="x", b="y"}, names sorted, values quoted like Go's %q.</summary>
    public static string LabelSetString(IReadOnlyDictionary<string, string> labels)
    {
        var sb = new StringBuilder("{");
        bool first = true;
        foreach (var (name, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            if (!first)
            {
                sb.Append(", ");
            }
            first = false;
            sb.Append(name).Append('=');
            GoQuote(sb, value);
        }
        return sb.Append('}').ToString();
    }

    /// <summary>A time as Go's encoding/json writes a UTC time.Time (RFC 3339, fraction without trailing zeros).</summary>
    public static string GoTime(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>The string without NUL and unpaired surrogates (each replaced by U+FFFD), which PostgreSQL cannot store.</summary>
    public static string Clean(string? s)
    {
        if (string.IsNullOrEmpty(s))
        {
            return s ?? "";
        }
        StringBuilder? sb = null;
        for (int i = 0; i < s.Length; i++)
        {
            if (StoredText.IsUnstorableAt(s, i))
            {
                sb ??= new StringBuilder(s, 0, i, s.Length);
                sb.Append('\uFFFD');
            }
            else
            {
                sb?.Append(s[i]);
            }
        }
        return sb?.ToString() ?? s;
    }

    private static string? CleanOrNull(string? s) => s is null ? null : Clean(s);

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    private static void CheckEvent(AlertTransition t)
    {
        if (t.Event is not (AlertTransition.Firing or AlertTransition.Resolved))
        {
            throw new ArgumentException($"event: \"firing\" or \"resolved\" expected, got \"{t.Event}\"", nameof(t));
        }
    }

    private static string Description(AlertView a)
    {
        var info = AlertMetrics.All.FirstOrDefault(m => m.Metric == a.Metric);
        string label = info?.Label ?? a.Metric.ToString();
        string unit = info?.Unit ?? "";
        string comparison = info?.FiresBelow == true ? "below" : "above";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{label} on {Subject(a)}: {Number(a.Value)} {unit} (fires {comparison} {Number(a.Threshold)} {unit}).");
    }

    private static string Number(double v) => double.IsFinite(v) ? v.ToString("0.##", CultureInfo.InvariantCulture) : "n/a";

    private static void GoQuote(StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (var rune in value.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\v': sb.Append("\\v"); break;
                default:
                    if (rune.Value < 0x20 || rune.Value == 0x7f)
                    {
                        sb.Append("\\x").Append(rune.Value.ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else if (Rune.IsControl(rune))
                    {
                        sb.Append("\\u").Append(rune.Value.ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(rune.ToString());
                    }
                    break;
            }
        }
        sb.Append('"');
    }

    private sealed record WebhookMessage(
        string Version,
        string Event,
        DateTimeOffset At,
        long AlertId,
        long RuleId,
        string Rule,
        AlertMetric Metric,
        string? Unit,
        AlertSeverity Severity,
        AlertState State,
        string Host,
        string? Service,
        int? Pid,
        string? Remote,
        double? Value,
        double? Threshold,
        DateTimeOffset StartedAt,
        DateTimeOffset? FiredAt,
        DateTimeOffset? ResolvedAt,
        string Summary,
        string Subject,
        string Url);

    private sealed record AlertmanagerMessage(
        [property: JsonPropertyName("receiver")] string Receiver,
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("alerts")] IReadOnlyList<AlertmanagerAlert> Alerts,
        [property: JsonPropertyName("groupLabels")] IReadOnlyDictionary<string, string> GroupLabels,
        [property: JsonPropertyName("commonLabels")] IReadOnlyDictionary<string, string> CommonLabels,
        [property: JsonPropertyName("commonAnnotations")] IReadOnlyDictionary<string, string> CommonAnnotations,
        [property: JsonPropertyName("externalURL")] string ExternalUrl,
        [property: JsonPropertyName("version")] string Version,
        [property: JsonPropertyName("groupKey")] string GroupKey,
        [property: JsonPropertyName("truncatedAlerts")] ulong TruncatedAlerts);

    private sealed record AlertmanagerAlert(
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("labels")] IReadOnlyDictionary<string, string> Labels,
        [property: JsonPropertyName("annotations")] IReadOnlyDictionary<string, string> Annotations,
        [property: JsonPropertyName("startsAt")] string StartsAt,
        [property: JsonPropertyName("endsAt")] string EndsAt,
        [property: JsonPropertyName("generatorURL")] string GeneratorUrl,
        [property: JsonPropertyName("fingerprint")] string Fingerprint);
}
