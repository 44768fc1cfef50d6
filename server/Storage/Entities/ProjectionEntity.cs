namespace Fleet.Server.Storage.Entities;

/// <summary>
/// The latest leak projection of one series (table projections), rewritten by the projection job every pass:
/// a service instance (<see cref="SeriesKey"/> empty, <see cref="Pid"/> null) or one process of it (keyed by its
/// command name, or by command and pid when several processes share the name). Rows of series no longer seen in the
/// job's lookback are deleted. Limits are 0 when unlimited or unknown.
/// </summary>
public sealed class ProjectionEntity
{
    /// <summary>The instance's series key.</summary>
    public const string InstanceKey = "";

    public long Id { get; set; }

    public int HostId { get; set; }

    public HostEntity? Host { get; set; }

    public int ServiceId { get; set; }

    public ServiceEntity? Service { get; set; }

    /// <summary>"" for the instance; the comm for a process series, or "comm#pid" when processes share the comm.</summary>
    public required string SeriesKey { get; set; }

    public int? Pid { get; set; }

    public string? Command { get; set; }

    /// <summary>Fleet.Web.Data.LeakVerdict as a number (0 no leak, 1 leak, 2 insufficient data).</summary>
    public short Verdict { get; set; }

    public double SlopePerHour { get; set; }

    public double CurrentFds { get; set; }

    public long SoftLimit { get; set; }

    public long HardLimit { get; set; }

    public TimeSpan? TimeToSoftLimit { get; set; }

    public TimeSpan? TimeToHardLimit { get; set; }

    /// <summary>ComputedAt + TimeToSoftLimit: what the overview's at-risk list and the leak list are ordered by.</summary>
    public DateTimeOffset? ExhaustedAt { get; set; }

    public double Quality { get; set; }

    public DateTimeOffset? RunStart { get; set; }

    public DateTimeOffset[] Restarts { get; set; } = [];

    public TimeSpan? RestartCadence { get; set; }

    public required string Reason { get; set; }

    /// <summary>"address:port" of the remote endpoint CLOSE_WAIT grows toward, or null.</summary>
    public string? SocketRemote { get; set; }

    public double? SocketSlopePerHour { get; set; }

    public long? SocketCloseWaitNow { get; set; }

    public double? SocketShareOfFdRise { get; set; }

    /// <summary>The "now" of the projection (the series' last sample time when it went quiet).</summary>
    public DateTimeOffset ComputedAt { get; set; }

    /// <summary>The job pass that last computed the projection (a "no leak" may be kept for a few passes).</summary>
    public DateTimeOffset PassAt { get; set; }
}
