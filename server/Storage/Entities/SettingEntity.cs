namespace Fleet.Server.Storage.Entities;

/// <summary>A setting changed at run time (from the UI later): a key and a JSON value.</summary>
public sealed class SettingEntity
{
    /// <summary>The agent configuration: {"intervalSeconds": 10, "groupingRules": [{"field", "pattern", "serviceTemplate"}]}.</summary>
    public const string AgentKey = "agent";

    public required string Key { get; set; }

    /// <summary>JSON (jsonb).</summary>
    public required string Value { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
