namespace Fleet.Server.Api;

/// <summary>
/// The metrics <c>GET /api/hosts/{name}/series</c> serves (the names storage answers, Storage/Queries/SeriesMetrics):
/// service metrics exist per service (<c>service=</c>) and, summed, per host; host metrics are system figures.
/// </summary>
public static class SeriesMetrics
{
    /// <summary>Metric name and whether it exists per service (else per host only).</summary>
    public static IReadOnlyDictionary<string, bool> All { get; } = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["open_fds"] = true,
        ["open_fds_avg"] = true,
        ["soft_limit_percent"] = true,
        ["close_wait"] = true,
        ["established"] = true,
        ["established_avg"] = true,
        ["processes"] = true,
        ["processes_avg"] = true,
        ["file_handles"] = false,
        ["ephemeral_ports"] = false,
        ["tcp_orphans"] = false,
        ["conntrack"] = false,
        ["time_wait"] = false,
    };

    public static string AllowedList => string.Join(", ", All.Keys);
}
