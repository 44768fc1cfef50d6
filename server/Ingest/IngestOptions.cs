using Microsoft.Extensions.Options;

namespace Fleet.Server.Ingest;

/// <summary>Limits and rules of the ingest stream (configuration section <c>Fleet:Ingest</c>).</summary>
public sealed class IngestOptions
{
    public const string Section = "Fleet:Ingest";

    /// <summary>
    /// Whether the gRPC endpoint may listen without TLS. Unset: allowed only on a loopback address, where the
    /// enrollment token never crosses a network.
    /// </summary>
    public bool? AllowPlaintext { get; set; }

    /// <summary>The largest message the server accepts, in bytes (a larger one fails the call with ResourceExhausted).</summary>
    public int MaxMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Snapshots collected longer ago than this are rejected; default storage's raw retention (Fleet:Storage:RawRetentionDays, 14 days).</summary>
    public TimeSpan MaxSnapshotAge { get; set; } = TimeSpan.FromDays(14);

    /// <summary>How far in the future a snapshot's collected_at may lie (clock skew between host and server).</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a new stream of an agent waits for the stream it replaces to finish its snapshot in hand.</summary>
    public TimeSpan TakeoverTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often the server asks the database whether the tokens of its open streams were revoked elsewhere (by
    /// another server, or in the database directly); a revocation made through this server cuts its streams at once.
    /// </summary>
    public TimeSpan RevocationCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Snapshots per agent and connection attempts per address (section <c>Fleet:Ingest:RateLimit</c>).</summary>
    public IngestRateLimitOptions RateLimit { get; set; } = new();

    public static readonly TimeSpan MinRevocationCheckInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxRevocationCheckInterval = TimeSpan.FromHours(1);

    public const int MinMessageSize = 64 * 1024;
    public const int MaxMessageSizeLimit = 256 * 1024 * 1024;
}

internal sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        var errors = new List<string>();
        if (options.MaxMessageSize is < IngestOptions.MinMessageSize or > IngestOptions.MaxMessageSizeLimit)
        {
            errors.Add($"{IngestOptions.Section}:MaxMessageSize is {options.MaxMessageSize}: allowed are {IngestOptions.MinMessageSize} to {IngestOptions.MaxMessageSizeLimit} bytes");
        }
        if (options.MaxSnapshotAge < TimeSpan.FromMinutes(1))
        {
            errors.Add($"{IngestOptions.Section}:MaxSnapshotAge is {options.MaxSnapshotAge}: it must be at least 00:01:00 (a TimeSpan such as 7.00:00:00)");
        }
        if (options.MaxClockSkew < TimeSpan.Zero || options.MaxClockSkew > TimeSpan.FromDays(1))
        {
            errors.Add($"{IngestOptions.Section}:MaxClockSkew is {options.MaxClockSkew}: allowed are 00:00:00 to 1.00:00:00");
        }
        if (options.TakeoverTimeout < TimeSpan.Zero || options.TakeoverTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{IngestOptions.Section}:TakeoverTimeout is {options.TakeoverTimeout}: allowed are 00:00:00 to 00:05:00");
        }
        if (options.RevocationCheckInterval < IngestOptions.MinRevocationCheckInterval || options.RevocationCheckInterval > IngestOptions.MaxRevocationCheckInterval)
        {
            errors.Add($"{IngestOptions.Section}:RevocationCheckInterval is {options.RevocationCheckInterval}: allowed are {IngestOptions.MinRevocationCheckInterval:c} to {IngestOptions.MaxRevocationCheckInterval:c}");
        }
        if (options.RateLimit is null)
        {
            errors.Add($"{IngestRateLimitOptions.Section} is missing");
        }
        else
        {
            errors.AddRange(options.RateLimit.Validate());
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
