namespace Fleet.Server.Storage.Queries;

/// <summary>
/// A metric a series may ask for, and the aggregate that answers it from each source. Every point is the
/// maximum within its bucket, except the *_avg metrics. Service metrics asked for a host without a service are
/// summed over the host's services per snapshot (the percent is the maximum); host metrics are system figures.
/// </summary>
internal sealed record SeriesMetric(string Name, bool HostFigure, string? RawService, string RawHost, string? RollupService, string RollupHost);

internal static class SeriesMetrics
{
    public static readonly SeriesMetric[] All =
    [
        new("open_fds", false, "max(open_fds)", "max(open_fds)", "max(open_fds_max)", "max(open_fds_max)"),
        new("open_fds_avg", false, "avg(open_fds)", "avg(open_fds)", "sum(open_fds_sum)::float8 / sum(samples)", "sum(open_fds_sum)::float8 / sum(samples)"),
        new("soft_limit_percent", false, "max(worst_soft_limit_percent)", "max(worst_soft_limit_percent)", "max(soft_limit_percent_max)", "max(soft_limit_percent_max)"),
        new("close_wait", false, "max(tcp_close_wait)", "max(close_wait)", "max(close_wait_max)", "max(close_wait_max)"),
        new("established", false, "max(tcp_established)", "max(established)", "max(established_max)", "max(established_max)"),
        new("established_avg", false, "avg(tcp_established)", "avg(established)", "sum(established_sum)::float8 / sum(samples)", "sum(established_sum)::float8 / sum(samples)"),
        new("processes", false, "max(process_count)", "max(processes)", "max(processes_max)", "max(processes_max)"),
        new("processes_avg", false, "avg(process_count)", "avg(processes)", "sum(processes_sum)::float8 / sum(samples)", "sum(processes_sum)::float8 / sum(samples)"),
        new("file_handles", true, null, "max(file_handles_allocated)", null, "max(file_handles_max)"),
        new("ephemeral_ports", true, null, "max(ephemeral_ports_in_use)", null, "max(ephemeral_ports_max)"),
        new("tcp_orphans", true, null, "max(tcp_orphans)", null, "max(tcp_orphans_max)"),
        new("conntrack", true, null, "max(conntrack_count)", null, "max(conntrack_max)"),
        new("time_wait", true, null, "max(tcp_time_wait)", null, "max(time_wait_max)"),
    ];

    public static string AllowedList => string.Join(", ", All.Select(m => m.Name));

    public static SeriesMetric Find(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.Ordinal))
        ?? throw new ArgumentException($"unknown metric '{name}'; allowed: {AllowedList}", nameof(name));
}
