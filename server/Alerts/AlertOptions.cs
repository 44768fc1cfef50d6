using Microsoft.Extensions.Options;

namespace Fleet.Server.Alerts;

/// <summary>Alert evaluation (configuration section <c>Fleet:Alerts</c>).</summary>
public sealed class AlertOptions
{
    public const string Section = "Fleet:Alerts";

    /// <summary>How often rules are evaluated without new data: agents gone silent, durations elapsing (default 15 s).</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often time to exhaustion is read from the projections (default 1 min: they are recomputed about as often).</summary>
    public TimeSpan ProjectionInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>An open alert whose state did not change has its value written at most this often (default 1 min).</summary>
    public TimeSpan ValueRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Hosts whose newest snapshot may wait for evaluation at once; beyond, snapshots are dropped and counted (default 10000).</summary>
    public int MaxQueuedHosts { get; set; } = 10_000;
}

internal sealed class AlertOptionsValidator : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        var errors = new List<string>();
        Check(errors, nameof(AlertOptions.TickInterval), options.TickInterval);
        Check(errors, nameof(AlertOptions.ProjectionInterval), options.ProjectionInterval);
        Check(errors, nameof(AlertOptions.ValueRefreshInterval), options.ValueRefreshInterval);
        if (options.MaxQueuedHosts is < 1 or > 1_000_000)
        {
            errors.Add($"{AlertOptions.Section}:{nameof(AlertOptions.MaxQueuedHosts)}: between 1 and 1000000 (got {options.MaxQueuedHosts})");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, string key, TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1) || value > TimeSpan.FromHours(1))
        {
            errors.Add($"{AlertOptions.Section}:{key}: between 00:00:01 and 01:00:00 (got {value})");
        }
    }
}
