using Microsoft.Extensions.Options;

namespace Fleet.Server.Projection;

/// <summary>The projection job's settings (section <c>Fleet:Projection</c>).</summary>
public sealed class ProjectionJobOptions
{
    public const string Section = "Fleet:Projection";

    /// <summary>How often a pass runs.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How far back the series are read (and how long a series stays in the table after its last sample).</summary>
    public TimeSpan Lookback { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>Lists every out-of-range setting at once, naming the key and what is allowed.</summary>
public sealed class ValidateProjectionJobOptions : IValidateOptions<ProjectionJobOptions>
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaxInterval = TimeSpan.FromHours(1);
    public static readonly TimeSpan MinLookback = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxLookback = TimeSpan.FromDays(7);

    public ValidateOptionsResult Validate(string? name, ProjectionJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Interval < MinInterval || options.Interval > MaxInterval)
        {
            errors.Add($"{ProjectionJobOptions.Section}:{nameof(options.Interval)} must be between {MinInterval:c} and {MaxInterval:c} (is {options.Interval:c}).");
        }
        if (options.Lookback < MinLookback || options.Lookback > MaxLookback)
        {
            errors.Add($"{ProjectionJobOptions.Section}:{nameof(options.Lookback)} must be between {MinLookback:c} and {MaxLookback:c} (is {options.Lookback:c}).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
