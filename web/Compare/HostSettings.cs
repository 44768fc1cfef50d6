using System.Globalization;
using Fleet.Web.Data;

namespace Fleet.Web.Compare;

/// <summary>
/// The limits and kernel settings of hosts side by side (pure): one <see cref="SettingRow"/> per setting, a value per
/// host in the order given, <see cref="SettingRow.Differs"/> when two known values differ. Values are the settings as
/// the kernel writes them ("1024", "32768–60999"), so equal settings compare equal whatever the page shows.
/// The compare view and the drift view both read settings through here.
/// </summary>
public static class HostSettings
{
    public const string NofileSoft = "nofile_soft";
    public const string NofileHard = "nofile_hard";
    public const string FileMax = "file_max";
    public const string NrOpen = "nr_open";
    public const string PortRange = "ip_local_port_range";
    public const string FinTimeout = "tcp_fin_timeout";
    public const string TwReuse = "tcp_tw_reuse";
    public const string MaxOrphans = "tcp_max_orphans";
    public const string ConntrackMax = "nf_conntrack_max";
    public const string InotifyInstances = "inotify_max_user_instances";
    public const string InotifyWatches = "inotify_max_user_watches";
    public const string Kernel = "kernel";
    public const string AgentVersion = "agent_version";

    /// <summary>The value of nf_conntrack_max on a host without the conntrack module.</summary>
    public const string Absent = "absent";

    /// <summary>The value of a limit with no bound (RLIMIT_INFINITY).</summary>
    public const string Unlimited = "unlimited";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// The rows for <paramref name="hosts"/> (one value per host, in that order): nofile soft and hard for each of
    /// <paramref name="services"/> (null where the host does not run it), then the system settings, the kernel and the
    /// agent version.
    /// </summary>
    public static IReadOnlyList<SettingRow> Rows(IReadOnlyList<HostDetail> hosts, IReadOnlyList<string> services)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentNullException.ThrowIfNull(services);
        var rows = new List<SettingRow>();
        foreach (var service in services)
        {
            rows.Add(Row(NofileSoft, "nofile soft", service, hosts, h => NofileOf(h, service, hard: false)));
            rows.Add(Row(NofileHard, "nofile hard", service, hosts, h => NofileOf(h, service, hard: true)));
        }
        rows.Add(Row(FileMax, "fs.file-max", null, hosts, h => Known(h.System.FileHandlesMax)));
        rows.Add(Row(NrOpen, "fs.nr_open", null, hosts, h => Known(h.System.NrOpen)));
        rows.Add(Row(PortRange, "net.ipv4.ip_local_port_range", null, hosts, h => PortRangeOf(h.System)));
        rows.Add(Row(FinTimeout, "net.ipv4.tcp_fin_timeout (s)", null, hosts, h => h.System.TcpFinTimeoutSeconds.ToString(Inv)));
        rows.Add(Row(TwReuse, "net.ipv4.tcp_tw_reuse", null, hosts, h => h.System.TcpTwReuse.ToString(Inv)));
        rows.Add(Row(MaxOrphans, "net.ipv4.tcp_max_orphans", null, hosts, h => h.System.TcpMaxOrphans.ToString(Inv)));
        rows.Add(Row(ConntrackMax, "net.netfilter.nf_conntrack_max", null, hosts, h => h.System.ConntrackPresent ? Known(h.System.ConntrackMax) : Absent));
        rows.Add(Row(InotifyInstances, "fs.inotify.max_user_instances", null, hosts, h => Known(h.System.InotifyMaxUserInstances)));
        rows.Add(Row(InotifyWatches, "fs.inotify.max_user_watches", null, hosts, h => Known(h.System.InotifyMaxUserWatches)));
        rows.Add(Row(Kernel, "kernel", null, hosts, h => string.IsNullOrWhiteSpace(h.Kernel) ? null : h.Kernel));
        rows.Add(Row(AgentVersion, "agent version", null, hosts, h => string.IsNullOrWhiteSpace(h.AgentVersion) ? null : h.AgentVersion));
        return rows;
    }

    /// <summary>
    /// The service's soft (or hard) nofile on the host: one value when its processes agree, "min–max" when they
    /// differ; from the worst process of the service's row when none of its processes is in the detail; null when
    /// the host does not run the service or the limit is unknown.
    /// </summary>
    public static string? NofileOf(HostDetail host, string service, bool hard)
    {
        ArgumentNullException.ThrowIfNull(host);
        var limits = host.Processes
            .Where(p => string.Equals(p.Service, service, StringComparison.Ordinal))
            .Select(p => hard ? p.HardLimit : p.SoftLimit)
            .Where(l => l != 0)
            .ToList();
        if (limits.Count == 0 && host.Services.FirstOrDefault(s => string.Equals(s.Name, service, StringComparison.Ordinal)) is { } row)
        {
            var limit = hard ? row.WorstHardLimit : row.WorstSoftLimit;
            if (limit != 0)
            {
                limits.Add(limit);
            }
        }
        if (limits.Count == 0)
        {
            return null;
        }
        ulong min = limits.Min(), max = limits.Max();
        return min == max ? Limit(min) : $"{Limit(min)}–{Limit(max)}";
    }

    /// <summary>A nofile limit as the kernel shows it: the number, or "unlimited".</summary>
    public static string Limit(ulong limit) => limit == ulong.MaxValue ? Unlimited : limit.ToString(Inv);

    /// <summary>"32768–60999", or null when the range is unknown.</summary>
    public static string? PortRangeOf(SystemHeadroom system)
    {
        ArgumentNullException.ThrowIfNull(system);
        return system.EphemeralPortRange == 0 ? null : $"{system.EphemeralPortLow.ToString(Inv)}–{system.EphemeralPortHigh.ToString(Inv)}";
    }

    /// <summary>Whether two known values among <paramref name="values"/> differ (unknown values are not a difference).</summary>
    public static bool Differ(IEnumerable<string?> values) =>
        values.OfType<string>().Distinct(StringComparer.Ordinal).Skip(1).Any();

    private static SettingRow Row(string key, string label, string? service, IReadOnlyList<HostDetail> hosts, Func<HostDetail, string?> value)
    {
        string?[] values = [.. hosts.Select(value)];
        return new SettingRow(key, label, service, values, Differ(values));
    }

    /// <summary>A figure the agent read, or null when it reads 0 (not read: none of these settings is 0 on a running kernel).</summary>
    private static string? Known(ulong value) => value == 0 ? null : value.ToString(Inv);
}
