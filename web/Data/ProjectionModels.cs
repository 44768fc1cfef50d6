namespace Fleet.Web.Data;

/// <summary>What the leak projector (server/Projection/LeakProjector) concluded about a series.</summary>
public enum LeakVerdict
{
    /// <summary>Enough data, and no persistent, significant rise.</summary>
    NoLeak,

    /// <summary>The fds rise steadily: a time to the limits is given.</summary>
    Leak,

    /// <summary>The current run is too short or too sparse to judge.</summary>
    InsufficientData,
}

/// <summary>
/// A leak projection of one service instance (<see cref="Pid"/> null) or of one process, computed on the server from
/// the stored series. The projection line on a graph runs from (<see cref="ComputedAt"/>, <see cref="CurrentFds"/>)
/// at <see cref="SlopePerHour"/> to the soft limit at <c>ComputedAt + TimeToSoftLimit</c>.
/// </summary>
/// <param name="Host">Host name.</param>
/// <param name="Service">Service name.</param>
/// <param name="Pid">The process, or null for the whole service instance.</param>
/// <param name="Command">The process's command name (comm), or null for an instance.</param>
/// <param name="Verdict">Leak, no leak, or not enough data.</param>
/// <param name="SlopePerHour">Robust slope of the current run (fds per hour).</param>
/// <param name="CurrentFds">The level the fitted line gives at <see cref="ComputedAt"/>.</param>
/// <param name="SoftLimit">The soft nofile limit the time is projected to (the instance's worst process); 0 = unlimited or unknown.</param>
/// <param name="HardLimit">The hard nofile limit; 0 = unlimited or unknown.</param>
/// <param name="TimeToSoftLimit">From <see cref="ComputedAt"/> to the soft limit at that slope; null unless a leak toward a finite limit.</param>
/// <param name="TimeToHardLimit">The same for the hard limit.</param>
/// <param name="Quality">0..1: how much the verdict can be trusted (significance, persistence, coverage).</param>
/// <param name="RunStart">Start of the fitted run (after the last restart).</param>
/// <param name="Restarts">Restarts found in the series, oldest first (marked on graphs).</param>
/// <param name="RestartCadence">Median interval between restarts when they repeat: the saw-tooth of a leak that restarts hide.</param>
/// <param name="Reason">Why the verdict, in one sentence a person can check against the graph.</param>
/// <param name="SocketLeak">Set when CLOSE_WAIT toward one remote endpoint grows with the fds.</param>
/// <param name="ComputedAt">When the projection was computed ("now" of the projection).</param>
public sealed record ProjectionView(
    string Host,
    string Service,
    int? Pid,
    string? Command,
    LeakVerdict Verdict,
    double SlopePerHour,
    double CurrentFds,
    ulong SoftLimit,
    ulong HardLimit,
    TimeSpan? TimeToSoftLimit,
    TimeSpan? TimeToHardLimit,
    double Quality,
    DateTimeOffset? RunStart,
    IReadOnlyList<DateTimeOffset> Restarts,
    TimeSpan? RestartCadence,
    string Reason,
    SocketLeak? SocketLeak,
    DateTimeOffset ComputedAt)
{
    /// <summary>When the soft limit is reached at the projected slope, or null.</summary>
    public DateTimeOffset? ExhaustedAt => TimeToSoftLimit is { } t ? ComputedAt + t : null;
}

/// <summary>CLOSE_WAIT toward one remote endpoint that grows with the fds: "socket leak toward 10.0.3.7:443".</summary>
/// <param name="Remote">The remote endpoint, "address:port" ("[v6]:port" for IPv6).</param>
/// <param name="CloseWaitSlopePerHour">How fast CLOSE_WAIT toward it grows (sockets per hour).</param>
/// <param name="CloseWaitNow">CLOSE_WAIT sockets toward it in the latest sample.</param>
/// <param name="ShareOfFdRise">Fraction (0..1) of the fd rise these sockets account for.</param>
public sealed record SocketLeak(string Remote, double CloseWaitSlopePerHour, ulong CloseWaitNow, double ShareOfFdRise);

/// <summary>Projections, as stored by the server's projection job (recomputed every minute or so).</summary>
public interface IProjectionData
{
    /// <summary>Every projection (instances and processes) of one host's services.</summary>
    Task<IReadOnlyList<ProjectionView>> HostAsync(string hostName, CancellationToken ct);

    /// <summary>Every projection of one service, across the hosts it runs on.</summary>
    Task<IReadOnlyList<ProjectionView>> ServiceAsync(string serviceName, CancellationToken ct);

    /// <summary>Instance projections with a leak, soonest exhaustion first (at most <paramref name="limit"/>).</summary>
    Task<IReadOnlyList<ProjectionView>> LeaksAsync(int limit, CancellationToken ct);
}
