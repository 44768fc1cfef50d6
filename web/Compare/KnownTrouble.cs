using System.Globalization;
using Fleet.Web.Data;

namespace Fleet.Web.Compare;

/// <summary>
/// Known causes of fd and socket exhaustion, found in a host's latest snapshot (pure rules). Each threshold is a
/// named constant; each message names the figures that raised it, so a reader can check it against the host page.
/// The compare view and the drift view raise the same findings for the same snapshot.
/// </summary>
public static class KnownTrouble
{
    /// <summary>A soft nofile at or below this is the old default (1024, still what many containers and init systems hand out).</summary>
    public const ulong LowSoftNofile = 1024;

    /// <summary>A service is busy when its worst process uses more than this share of its soft limit...</summary>
    public const double BusyShareOfSoft = 0.5;

    /// <summary>...or when it holds at least this many TCP sockets (each one an fd).</summary>
    public const ulong ManyTcpSockets = 500;

    /// <summary>A low soft nofile is critical (not a warning) once the worst process uses this share of it.</summary>
    public const double CriticalShareOfSoft = 0.8;

    /// <summary>A soft limit at most 1/this of the hard limit is far below it: the process could raise it itself, without root.</summary>
    public const ulong SoftFarBelowHardFactor = 8;

    /// <summary>A soft limit far below the hard one is reported only when the worst process uses at least this share of it (an idle service does not need the headroom).</summary>
    public const double SoftFarBelowHardUsedShare = 0.25;

    /// <summary>An ephemeral port range with fewer ports than this is narrow (the default 32768–60999 has 28232; 16384 is the RFC 6335 range).</summary>
    public const ulong NarrowPortRange = 16384;

    /// <summary>Ephemeral ports in use above this share of the range: outgoing connections start to fail with EADDRNOTAVAIL.</summary>
    public const double PortsUsedShare = 0.7;

    /// <summary>TIME_WAIT sockets at or above this share of the port range are many when tcp_tw_reuse is 0 (each holds a port for 60 s).</summary>
    public const double TimeWaitShareOfRange = 0.25;

    /// <summary>nf_conntrack_max below this is small (the kernel's own default on a host with 4 GiB or more is 65536 or above).</summary>
    public const ulong SmallConntrackMax = 65536;

    /// <summary>Conntrack entries above this share of nf_conntrack_max: new flows are dropped at 100% ("table full, dropping packet").</summary>
    public const double ConntrackUsedShare = 0.8;

    /// <summary>Orphaned TCP sockets above this share of tcp_max_orphans: under memory pressure the kernel counts them 2-4 times and resets connections ("too many orphaned sockets").</summary>
    public const double OrphansUsedShare = 0.5;

    /// <summary>File handles allocated above this share of fs.file-max: every process's open() fails with ENFILE at 100%.</summary>
    public const double FileHandlesUsedShare = 0.8;

    /// <summary>The kernel's default fs.inotify.max_user_instances.</summary>
    public const ulong DefaultInotifyInstances = 128;

    /// <summary>A user holding at least this share of max_user_instances is near it (inotify_init fails with EMFILE at the limit).</summary>
    public const double InotifyNearShare = 0.75;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// The findings for one subject: the rules about services for <paramref name="service"/> (every service of the
    /// host when null), and the host's kernel settings. <paramref name="subject"/> names the subject in the findings.
    /// </summary>
    public static IReadOnlyList<TroubleFinding> Find(HostDetail host, string subject, string? service) =>
        [.. ServiceFindings(host, subject, service), .. HostFindings(host, subject)];

    /// <summary>The rules about services only: <paramref name="service"/>'s, or every service of the host when null.</summary>
    public static IReadOnlyList<TroubleFinding> ServiceFindings(HostDetail host, string subject, string? service)
    {
        ArgumentNullException.ThrowIfNull(host);
        var findings = new List<TroubleFinding>();
        foreach (var s in host.Services.Where(s => service is null || string.Equals(s.Name, service, StringComparison.Ordinal)))
        {
            ServiceRules(host, s, subject, findings);
        }
        return findings;
    }

    /// <summary>The rules about the host's kernel settings and headroom, the same for every service on it.</summary>
    public static IReadOnlyList<TroubleFinding> HostFindings(HostDetail host, string subject)
    {
        ArgumentNullException.ThrowIfNull(host);
        var findings = new List<TroubleFinding>();
        SystemRules(host.System, subject, findings);
        return findings;
    }

    private static void ServiceRules(HostDetail host, ServiceRow s, string subject, List<TroubleFinding> findings)
    {
        ulong soft = s.WorstSoftLimit, hard = s.WorstHardLimit, worst = s.WorstOpenFds, tcp = s.Tcp.Total;
        bool limited = soft is not 0 and not ulong.MaxValue;
        double used = limited ? (double)worst / soft : 0;

        // The service's lowest soft limit (a process other than the worst may have less).
        ulong lowest = host.Processes
            .Where(p => string.Equals(p.Service, s.Name, StringComparison.Ordinal) && p.SoftLimit is not 0)
            .Select(p => p.SoftLimit)
            .Append(limited ? soft : ulong.MaxValue)
            .Min();
        if (lowest <= LowSoftNofile && (used > BusyShareOfSoft || tcp >= ManyTcpSockets))
        {
            string why = limited && used > BusyShareOfSoft
                ? $"worst process at {N(worst)} fds ({Pct(used)})"
                : $"{N(tcp)} TCP sockets";
            findings.Add(new(subject, HostSettings.NofileSoft, used >= CriticalShareOfSoft ? TroubleSeverity.Critical : TroubleSeverity.Warning,
                $"soft nofile {N(lowest)} on {s.Name}: {why}"));
        }

        if (limited && hard != 0 && (hard == ulong.MaxValue || hard / SoftFarBelowHardFactor >= soft) && used >= SoftFarBelowHardUsedShare)
        {
            findings.Add(new(subject, HostSettings.NofileSoft, TroubleSeverity.Warning,
                $"{s.Name} could raise its soft nofile {N(soft)} to its hard limit {HostSettings.Limit(hard)} without root (worst process at {N(worst)} fds, {Pct(used)})"));
        }

        ulong nrOpen = host.System.NrOpen;
        ulong highestHard = host.Processes
            .Where(p => string.Equals(p.Service, s.Name, StringComparison.Ordinal) && p.HardLimit is not 0 and not ulong.MaxValue)
            .Select(p => p.HardLimit)
            .Append(hard is not 0 and not ulong.MaxValue ? hard : 0)
            .Max();
        if (nrOpen != 0 && highestHard > nrOpen)
        {
            findings.Add(new(subject, HostSettings.NofileHard, TroubleSeverity.Warning,
                $"hard nofile {N(highestHard)} on {s.Name} is above fs.nr_open {N(nrOpen)}: setrlimit refuses it, a restart may fail to get it"));
        }
    }

    private static void SystemRules(SystemHeadroom sys, string subject, List<TroubleFinding> findings)
    {
        ulong range = sys.EphemeralPortRange;
        if (range != 0 && range < NarrowPortRange)
        {
            findings.Add(new(subject, HostSettings.PortRange, TroubleSeverity.Warning,
                $"ip_local_port_range {HostSettings.PortRangeOf(sys)} gives {N(range)} ports (fewer than {N(NarrowPortRange)})"));
        }
        if (range != 0 && sys.EphemeralPortsInUse > PortsUsedShare * range)
        {
            findings.Add(new(subject, HostSettings.PortRange, TroubleSeverity.Critical,
                $"ephemeral ports: {N(sys.EphemeralPortsInUse)} of {N(range)} in use ({Pct((double)sys.EphemeralPortsInUse / range)})"
                + (sys.TopEphemeralRemote is null ? "" : $", most to {sys.TopEphemeralRemote} ({N(sys.TopEphemeralCount)})")));
        }

        if (sys.TcpTwReuse == 0 && range != 0 && sys.TcpTimeWait >= TimeWaitShareOfRange * range)
        {
            findings.Add(new(subject, HostSettings.TwReuse, TroubleSeverity.Warning,
                $"tcp_tw_reuse 0 with {N(sys.TcpTimeWait)} TIME_WAIT sockets ({Pct((double)sys.TcpTimeWait / range)} of the {N(range)} ephemeral ports)"));
        }

        if (sys.ConntrackPresent && sys.ConntrackMax != 0)
        {
            if (sys.ConntrackMax < SmallConntrackMax)
            {
                findings.Add(new(subject, HostSettings.ConntrackMax, TroubleSeverity.Warning,
                    $"nf_conntrack_max {N(sys.ConntrackMax)} is small (below {N(SmallConntrackMax)})"));
            }
            if (sys.ConntrackCount > ConntrackUsedShare * sys.ConntrackMax)
            {
                findings.Add(new(subject, HostSettings.ConntrackMax, TroubleSeverity.Critical,
                    $"conntrack: {N(sys.ConntrackCount)} of nf_conntrack_max {N(sys.ConntrackMax)} entries ({Pct((double)sys.ConntrackCount / sys.ConntrackMax)})"));
            }
        }

        if (sys.TcpMaxOrphans != 0 && sys.TcpOrphans > OrphansUsedShare * sys.TcpMaxOrphans)
        {
            findings.Add(new(subject, HostSettings.MaxOrphans, TroubleSeverity.Warning,
                $"tcp_max_orphans {N(sys.TcpMaxOrphans)} is low against {N(sys.TcpOrphans)} orphaned sockets ({Pct((double)sys.TcpOrphans / sys.TcpMaxOrphans)})"));
        }

        if (sys.FileHandlesMax != 0 && sys.FileHandlesAllocated > FileHandlesUsedShare * sys.FileHandlesMax)
        {
            findings.Add(new(subject, HostSettings.FileMax, TroubleSeverity.Critical,
                $"file handles: {N(sys.FileHandlesAllocated)} of fs.file-max {N(sys.FileHandlesMax)} allocated ({Pct((double)sys.FileHandlesAllocated / sys.FileHandlesMax)})"));
        }

        if (sys.InotifyMaxUserInstances == DefaultInotifyInstances
            && sys.InotifyByUser.OrderByDescending(u => u.Instances).FirstOrDefault() is { } user
            && user.Instances >= InotifyNearShare * DefaultInotifyInstances)
        {
            findings.Add(new(subject, HostSettings.InotifyInstances, TroubleSeverity.Warning,
                $"inotify max_user_instances is the default {N(DefaultInotifyInstances)}: uid {user.Uid.ToString(Inv)} holds {N(user.Instances)}"));
        }
    }

    private static string N(ulong value) => value.ToString(Inv);

    /// <summary>A share as a whole percentage: 0.85 -> "85%".</summary>
    private static string Pct(double share) => Math.Round(share * 100).ToString("0", Inv) + "%";
}
