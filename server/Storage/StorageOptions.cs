using Microsoft.Extensions.Options;

namespace Fleet.Server.Storage;

/// <summary>Storage settings, bound from <c>Fleet:Storage</c>.</summary>
public sealed class StorageOptions
{
    public const string Section = "Fleet:Storage";

    /// <summary>Days of raw samples kept (whole daily partitions older than this are dropped).</summary>
    public int RawRetentionDays { get; set; } = 14;

    /// <summary>Days of 1-minute rollups kept; at least <see cref="RawRetentionDays"/> (hour buckets are re-aggregated from them).</summary>
    public int MinuteRollupRetentionDays { get; set; } = 30;

    /// <summary>Days of 1-hour rollups kept; at least <see cref="MinuteRollupRetentionDays"/>.</summary>
    public int HourRollupRetentionDays { get; set; } = 400;

    /// <summary>Daily partitions made ahead of today.</summary>
    public int PartitionDaysAhead { get; set; } = 3;

    /// <summary>How often partitions are made ahead and expired ones dropped.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Processes kept per snapshot: the top N by open fds and the top N by percent of the soft limit (plus any with CLOSE_WAIT).</summary>
    public int TopProcesses { get; set; } = 20;

    /// <summary>How often touched minute buckets are re-aggregated.</summary>
    public TimeSpan RollupInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often touched hour buckets are re-aggregated (from the minute rollups).</summary>
    public TimeSpan HourRollupInterval { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>Lists every wrong storage setting at once, with its key and what is allowed.</summary>
public sealed class ValidateStorageOptions : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions o)
    {
        var errors = new List<string>();
        void Range(string key, int value, int min, int max)
        {
            if (value < min || value > max)
            {
                errors.Add($"{StorageOptions.Section}:{key} must be between {min} and {max} (is {value}).");
            }
        }
        void Interval(string key, TimeSpan value, TimeSpan min, TimeSpan max)
        {
            if (value < min || value > max)
            {
                errors.Add($"{StorageOptions.Section}:{key} must be between {min:c} and {max:c} (is {value:c}).");
            }
        }

        Range(nameof(o.RawRetentionDays), o.RawRetentionDays, 1, 3650);
        Range(nameof(o.MinuteRollupRetentionDays), o.MinuteRollupRetentionDays, 1, 3650);
        Range(nameof(o.HourRollupRetentionDays), o.HourRollupRetentionDays, 1, 36500);
        Range(nameof(o.PartitionDaysAhead), o.PartitionDaysAhead, 1, 60);
        Range(nameof(o.TopProcesses), o.TopProcesses, 1, 10_000);
        Interval(nameof(o.MaintenanceInterval), o.MaintenanceInterval, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        Interval(nameof(o.RollupInterval), o.RollupInterval, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Interval(nameof(o.HourRollupInterval), o.HourRollupInterval, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        if (o.MinuteRollupRetentionDays < o.RawRetentionDays)
        {
            errors.Add($"{StorageOptions.Section}:{nameof(o.MinuteRollupRetentionDays)} ({o.MinuteRollupRetentionDays}) must be at least "
                + $"{nameof(o.RawRetentionDays)} ({o.RawRetentionDays}): late raw data is rolled up into minute buckets that must still exist.");
        }
        if (o.HourRollupRetentionDays < o.MinuteRollupRetentionDays)
        {
            errors.Add($"{StorageOptions.Section}:{nameof(o.HourRollupRetentionDays)} ({o.HourRollupRetentionDays}) must be at least "
                + $"{nameof(o.MinuteRollupRetentionDays)} ({o.MinuteRollupRetentionDays}).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
