using System.Text.Json;
using Fleet.Server.Ingest;

namespace Fleet.Server.Storage.Queries;

/// <summary>The stored agent configuration (the settings row 'agent'), as the readers of host status need it.</summary>
public static class AgentSetting
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    /// <summary>intervalSeconds of the 'agent' setting; 10 s when absent or not a positive number.</summary>
    public static TimeSpan Interval(string? json)
    {
        if (json is null)
        {
            return DefaultInterval;
        }
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("intervalSeconds", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double seconds) && seconds is > 0 and < 86_400
                ? TimeSpan.FromSeconds(seconds)
                : DefaultInterval;
        }
        catch (JsonException)
        {
            return DefaultInterval;
        }
    }

    /// <summary>
    /// The interval host status is judged by: the one the server sends its agents now (configuration, or the last
    /// PUT /api/agent-config), else the stored setting's.
    /// </summary>
    public static TimeSpan Interval(AgentConfigPublisher? config, string? storedJson) =>
        config?.Current.Interval is { } interval && interval.ToTimeSpan() > TimeSpan.Zero ? interval.ToTimeSpan() : Interval(storedJson);
}
