namespace Fleet.Agent.Streaming;

/// <summary>
/// How much the on-disk spool keeps while the server does not acknowledge: at most this many snapshots and
/// bytes. When either is exceeded the oldest snapshots are dropped (and counted) to make room for new ones.
/// </summary>
public sealed record SpoolLimits(int MaxSnapshots, long MaxBytes)
{
    /// <summary>A day at the default 10 s interval, or 256 MiB, whichever comes first.</summary>
    public static SpoolLimits Default { get; } = new(8640, 256L * 1024 * 1024);
}
