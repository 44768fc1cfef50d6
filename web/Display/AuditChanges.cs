using System.Text.Json;

namespace Fleet.Web.Display;

/// <summary>
/// What an audited change changed, read from its before and after JSON: every leaf field (nested objects as
/// dotted paths) whose value differs; a create lists what it made, a delete what it removed.
/// </summary>
public static class AuditChanges
{
    public sealed record Change(string Field, string? Before, string? After);

    /// <summary>The changed fields; null when a side is not valid JSON (show the raw text instead).</summary>
    public static IReadOnlyList<Change>? Of(string? beforeJson, string? afterJson)
    {
        var before = Flatten(beforeJson);
        var after = Flatten(afterJson);
        if (before is null || after is null)
        {
            return null;
        }
        var changes = new List<Change>();
        foreach (var field in before.Keys.Concat(after.Keys).Distinct(StringComparer.Ordinal))
        {
            var b = before.GetValueOrDefault(field);
            var a = after.GetValueOrDefault(field);
            // Who and when are the entry's own columns: not repeated as changed fields.
            if (!string.Equals(b, a, StringComparison.Ordinal) && !Bookkeeping(field))
            {
                changes.Add(new Change(field, Readable(field, b), Readable(field, a)));
            }
        }
        return changes;
    }

    private static string Leaf(string field) => field[(field.LastIndexOf('.') + 1)..];

    private static bool Bookkeeping(string field) =>
        Leaf(field).ToLowerInvariant() is "updatedat" or "updatedby" or "createdat";

    /// <summary>Enums stored as numbers read as their names ("metric: ServiceFdPercent").</summary>
    private static string? Readable(string field, string? value)
    {
        if (value is null || !int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n))
        {
            return value;
        }
        return Leaf(field).ToLowerInvariant() switch
        {
            "metric" => Name<Data.AlertMetric>(n) ?? value,
            "scope" => Name<Data.AlertScopeKind>(n) ?? value,
            "severity" or "minseverity" => Name<Data.AlertSeverity>(n) ?? value,
            "kind" => Name<Data.ChannelKind>(n) ?? value,
            _ => value,
        };
    }

    private static string? Name<T>(int n)
        where T : struct, Enum =>
        Enum.IsDefined(typeof(T), n) ? Enum.GetName(typeof(T), n) : null;

    private static Dictionary<string, string>? Flatten(string? json)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(json))
        {
            return fields;
        }
        try
        {
            using var doc = JsonDocument.Parse(json);
            Walk(doc.RootElement, "", fields);
            return fields;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void Walk(JsonElement element, string path, Dictionary<string, string> fields)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Walk(property.Value, path.Length == 0 ? property.Name : path + "." + property.Name, fields);
                }
                break;
            case JsonValueKind.String:
                fields[path] = element.GetString() ?? "";
                break;
            case JsonValueKind.Null:
                fields[path] = "null";
                break;
            default:
                fields[path] = element.GetRawText();
                break;
        }
    }
}
