using Microsoft.Extensions.Options;

namespace Fleet.Server.Snapshots;

/// <summary>Bounds of incident snapshots and their archives (<c>Fleet:Snapshots</c>).</summary>
public sealed class SnapshotOptions
{
    public const string Section = "Fleet:Snapshots";

    /// <summary>
    /// Raw sample rows one snapshot may keep, over all tables: beyond it a shorter range or fewer hosts must be chosen.
    /// The rows are held in memory while the snapshot is made or exported (some hundreds of bytes each).
    /// </summary>
    public const long DefaultMaxRawRows = 1_000_000;

    /// <summary>The largest archive accepted for import.</summary>
    public const long DefaultMaxArchiveBytes = 256L * 1024 * 1024;

    /// <summary>The largest snapshot.json (uncompressed) accepted for import.</summary>
    public const long DefaultMaxEntryBytes = 512L * 1024 * 1024;

    /// <summary>The largest compression ratio of snapshot.json accepted (a zip bomb compresses by about 1000).</summary>
    public const double DefaultMaxCompressionRatio = 200;

    public long MaxRawRows { get; set; } = DefaultMaxRawRows;

    public long MaxArchiveBytes { get; set; } = DefaultMaxArchiveBytes;

    public long MaxEntryBytes { get; set; } = DefaultMaxEntryBytes;

    public double MaxCompressionRatio { get; set; } = DefaultMaxCompressionRatio;

    /// <summary>The name archives give as where they were exported from: <c>Fleet:PublicUrl</c>, else the machine name.</summary>
    public string ServerName { get; set; } = Environment.MachineName;
}

internal sealed class SnapshotOptionsValidator : IValidateOptions<SnapshotOptions>
{
    public ValidateOptionsResult Validate(string? name, SnapshotOptions options)
    {
        var errors = new List<string>();
        if (options.MaxRawRows < 1)
        {
            errors.Add($"{SnapshotOptions.Section}:MaxRawRows must be at least 1 (got {options.MaxRawRows})");
        }
        if (options.MaxArchiveBytes < 1024 || options.MaxArchiveBytes > int.MaxValue)
        {
            errors.Add($"{SnapshotOptions.Section}:MaxArchiveBytes must be between 1024 and {int.MaxValue} (got {options.MaxArchiveBytes})");
        }
        if (options.MaxEntryBytes < 1024 || options.MaxEntryBytes > int.MaxValue)
        {
            errors.Add($"{SnapshotOptions.Section}:MaxEntryBytes must be between 1024 and {int.MaxValue} (got {options.MaxEntryBytes})");
        }
        if (!double.IsFinite(options.MaxCompressionRatio) || options.MaxCompressionRatio < 1)
        {
            errors.Add($"{SnapshotOptions.Section}:MaxCompressionRatio must be at least 1 (got {options.MaxCompressionRatio})");
        }
        if (string.IsNullOrWhiteSpace(options.ServerName) || options.ServerName.Length > 300 || options.ServerName.Any(char.IsControl))
        {
            errors.Add($"{SnapshotOptions.Section}:ServerName must be 1 to 300 printable characters");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
