using Fleet.Contracts.V1;

namespace Fleet.Server.Api;

/// <summary>What the HTTP API (and later the UI) read. Implemented by Storage with SQL the database answers from an index or a rollup.</summary>
public interface IFleetQueries
{
    Task<IReadOnlyList<HostSummary>> ListHostsAsync(CancellationToken ct);

    /// <summary>The host's most recent snapshot as received (services, processes, CLOSE_WAIT remotes, system figures), or null.</summary>
    Task<Snapshot?> LatestSnapshotAsync(string hostName, CancellationToken ct);

    /// <summary>A metric over time for a host, or one service instance on it; null when the host is unknown.</summary>
    Task<SeriesResult?> SeriesAsync(SeriesQuery query, CancellationToken ct);
}

/// <summary>Host status: live (seen within 3 intervals), stale (within 15 min), offline.</summary>
public sealed record HostSummary(
    string Name,
    string MachineId,
    DateTimeOffset? LastSeen,
    string AgentVersion,
    string Status,
    string? WorstService,
    double WorstSoftLimitPercent,
    ulong WorstHeadroomFds,
    ulong CloseWaitTotal,
    ulong FileHandlesAllocated,
    ulong FileHandlesMax,
    ulong EphemeralPortsInUse,
    ulong EphemeralPortRange);

public sealed record SeriesQuery(string Host, string Metric, string? Service, DateTimeOffset From, DateTimeOffset To, TimeSpan Step);

public sealed record SeriesPoint(DateTimeOffset Time, double? Value);

/// <summary>Source says what answered: "raw", "1m" or "1h" rollups.</summary>
public sealed record SeriesResult(string Host, string? Service, string Metric, TimeSpan Step, string Source, IReadOnlyList<SeriesPoint> Points);
