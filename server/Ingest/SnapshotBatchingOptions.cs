using Microsoft.Extensions.Options;

namespace Fleet.Server.Ingest;

/// <summary>How <see cref="SnapshotBatcher"/> groups snapshots into storage transactions (configuration section <c>Fleet:Ingest:Batching</c>).</summary>
public sealed class SnapshotBatchingOptions
{
    public const string Section = "Fleet:Ingest:Batching";

    /// <summary>The most snapshots stored in one transaction.</summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>How long after the first snapshot of a batch arrived the batcher waits for more before it writes.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Batches written at once (each its own transaction): while one waits for the database, the next is encoded.
    /// An agent's snapshots are never in two of them at once, so they are still stored in order.
    /// </summary>
    public int MaxConcurrentBatches { get; set; } = 2;

    /// <summary>Snapshots waiting to be written; when full, streams wait (and stop reading from their agents).</summary>
    public int QueueCapacity { get; set; } = 256;

    /// <summary>Snapshots one stream may have submitted before their acknowledgements (they are stored and acknowledged in order).</summary>
    public int MaxInFlightPerStream { get; set; } = 8;

    public const int MaxBatchSizeLimit = 4096;
    public const int MaxQueueCapacity = 100_000;
    public const int MaxInFlightLimit = 1024;
    public const int MaxConcurrentBatchesLimit = 16;
    public static readonly TimeSpan MaxDelayLimit = TimeSpan.FromSeconds(1);
}

internal sealed class SnapshotBatchingOptionsValidator : IValidateOptions<SnapshotBatchingOptions>
{
    public ValidateOptionsResult Validate(string? name, SnapshotBatchingOptions options)
    {
        const string S = SnapshotBatchingOptions.Section;
        var errors = new List<string>();
        if (options.MaxBatchSize is < 1 or > SnapshotBatchingOptions.MaxBatchSizeLimit)
        {
            errors.Add($"{S}:MaxBatchSize is {options.MaxBatchSize}: allowed are 1 to {SnapshotBatchingOptions.MaxBatchSizeLimit}");
        }
        if (options.MaxDelay < TimeSpan.Zero || options.MaxDelay > SnapshotBatchingOptions.MaxDelayLimit)
        {
            errors.Add($"{S}:MaxDelay is {options.MaxDelay}: allowed are 00:00:00 to {SnapshotBatchingOptions.MaxDelayLimit:c}");
        }
        if (options.QueueCapacity < options.MaxBatchSize || options.QueueCapacity > SnapshotBatchingOptions.MaxQueueCapacity)
        {
            errors.Add($"{S}:QueueCapacity is {options.QueueCapacity}: allowed are MaxBatchSize ({options.MaxBatchSize}) to {SnapshotBatchingOptions.MaxQueueCapacity}");
        }
        if (options.MaxConcurrentBatches is < 1 or > SnapshotBatchingOptions.MaxConcurrentBatchesLimit)
        {
            errors.Add($"{S}:MaxConcurrentBatches is {options.MaxConcurrentBatches}: allowed are 1 to {SnapshotBatchingOptions.MaxConcurrentBatchesLimit}");
        }
        if (options.MaxInFlightPerStream is < 1 or > SnapshotBatchingOptions.MaxInFlightLimit)
        {
            errors.Add($"{S}:MaxInFlightPerStream is {options.MaxInFlightPerStream}: allowed are 1 to {SnapshotBatchingOptions.MaxInFlightLimit}");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
