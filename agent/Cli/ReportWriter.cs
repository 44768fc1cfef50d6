using System.Globalization;
using Fleet.Contracts.V1;

namespace Fleet.Agent.Cli;

/// <summary>
/// The readable report of one snapshot: what an engineer on a sick host wants before lsof and ss —
/// who is near the nofile limit, what sits in CLOSE_WAIT toward whom, and how much the host has left.
/// </summary>
internal static class ReportWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Write(Snapshot s, TextWriter o, int top)
    {
        var cost = s.AgentCost ?? new AgentCost();
        var host = s.Host ?? new HostIdentity();
        string at = s.CollectedAt is null ? "?" : s.CollectedAt.ToDateTimeOffset().ToString("u", Inv);
        o.WriteLine($"fleet-agent {host.AgentVersion} · {host.Hostname} · Linux {host.Kernel} · {at}");
        o.WriteLine(string.Create(Inv,
            $"{cost.ProcessesSeen} processes, {cost.FdsRead} fds read in {Ms(cost.Wall)} ms (agent cpu {Ms(cost.Cpu)} ms, rss {Human(cost.ResidentBytes)}B); "
            + $"{cost.ProcessesUnreadable} unreadable, {cost.ProcessesVanished} exited while read, {cost.MalformedLines} malformed lines skipped"));
        if (cost.ProcessesUnreadable > 0)
        {
            o.WriteLine("  note: unreadable processes are shown with '?' — run as root or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH to see them");
        }
        o.WriteLine();
        WriteHeadroom(s.System, s.UnownedTcp, o);
        o.WriteLine();
        WriteServices(s, o, top);
        o.WriteLine();
        WriteProcesses(s, o, top);
        o.WriteLine();
        WriteCloseWait(s, o, top);
    }

    private static void WriteHeadroom(SystemFigures? sys, TcpStates? unowned, TextWriter o)
    {
        sys ??= new SystemFigures();
        unowned ??= new TcpStates();
        o.WriteLine("HOST HEADROOM");
        var t = new Table();
        t.Row("file handles", $"{Human(sys.FileHandlesAllocated)} of {Human(sys.FileHandlesMax)}", Percent(sys.FileHandlesAllocated, sys.FileHandlesMax), $"fs.nr_open {sys.NrOpen.ToString(Inv)}");
        uint range = sys.EphemeralPortHigh >= sys.EphemeralPortLow && sys.EphemeralPortHigh > 0 ? sys.EphemeralPortHigh - sys.EphemeralPortLow + 1 : 0;
        string topRemote = sys.TopEphemeralRemote is { } r ? $"; most toward {Endpoint(r)}: {r.Count.ToString(Inv)}" : "";
        t.Row("ephemeral ports", $"{Human(sys.EphemeralPortsInUse)} of {Human(range)}", Percent(sys.EphemeralPortsInUse, range), $"range {sys.EphemeralPortLow}-{sys.EphemeralPortHigh}{topRemote}");
        t.Row("tcp orphans", $"{Human(sys.TcpOrphans)} of {Human(sys.TcpMaxOrphans)}", Percent(sys.TcpOrphans, sys.TcpMaxOrphans),
            $"time_wait {sys.TcpTimeWait.ToString(Inv)}, tcp_fin_timeout {sys.TcpFinTimeoutSeconds.ToString(Inv)} s, tcp_tw_reuse {(sys.TcpTwReuse < 0 ? "?" : sys.TcpTwReuse.ToString(Inv))}");
        t.Row("conntrack", sys.ConntrackPresent ? $"{Human(sys.ConntrackCount)} of {Human(sys.ConntrackMax)}" : "not loaded", sys.ConntrackPresent ? Percent(sys.ConntrackCount, sys.ConntrackMax) : "", "");
        ulong worstInotify = sys.InotifyByUser.Count == 0 ? 0 : sys.InotifyByUser.Max(u => u.Instances);
        string byUser = string.Join(", ", sys.InotifyByUser.OrderByDescending(u => u.Instances).Take(3).Select(u => $"uid {u.Uid}: {u.Instances}"));
        t.Row("inotify instances", $"{Human(worstInotify)} of {Human(sys.InotifyMaxUserInstances)} per user", Percent(worstInotify, sys.InotifyMaxUserInstances),
            $"max_user_watches {sys.InotifyMaxUserWatches.ToString(Inv)}{(byUser.Length > 0 ? "; " + byUser : "")}");
        t.Row("sockets of no process", $"{unowned.TimeWait.ToString(Inv)} time_wait", "", $"{(unowned.FinWait1 + unowned.FinWait2 + unowned.LastAck + unowned.Closing).ToString(Inv)} closing (orphaned), {Total(unowned).ToString(Inv)} in all");
        t.WriteTo(o, "  ");
    }

    private static void WriteServices(Snapshot s, TextWriter o, int top)
    {
        o.WriteLine("SERVICES, closest to their nofile limit first");
        var t = new Table();
        t.Row("SERVICE", "FROM", "PROCS", "FDS", "TCP", "CLOSE_WAIT", "WORST PID", "FDS/SOFT", "%SOFT", "HARD");
        foreach (var svc in s.Services.Take(top))
        {
            string procs = svc.UnreadableProcessCount > 0 ? $"{svc.ProcessCount} ({svc.UnreadableProcessCount}?)" : svc.ProcessCount.ToString(Inv);
            bool known = svc.WorstPid != 0;
            t.Row(Cut(svc.Name, 40), Source(svc.Source), procs, Human(svc.OpenFds), Human(Total(svc.Tcp)), Human(svc.Tcp?.CloseWait ?? 0),
                known ? svc.WorstPid.ToString(Inv) : "?",
                known ? $"{Human(svc.WorstOpenFds)}/{Limit(svc.WorstNofileSoft)}" : "?",
                known ? Pct(svc.WorstSoftLimitPercent) : "?",
                known ? Limit(svc.WorstNofileHard) : "?");
        }
        t.WriteTo(o, "  ");
        if (s.Services.Count > top)
        {
            o.WriteLine($"  ... and {s.Services.Count - top} more services (--top N)");
        }
    }

    private static void WriteProcesses(Snapshot s, TextWriter o, int top)
    {
        o.WriteLine("TOP PROCESSES BY OPEN FDS");
        var t = new Table();
        t.Row("PID", "SERVICE", "COMM", "FDS", "SOFT", "HARD", "%SOFT", "FILES", "TCP", "UDP", "UNIX", "PIPES", "OTHER", "ESTAB", "CLOSE_WAIT", "LISTEN");
        var ordered = s.Processes.OrderByDescending(p => p.FdsReadable).ThenByDescending(p => p.OpenFds).ThenBy(p => p.Pid);
        foreach (var p in ordered.Take(top))
        {
            if (!p.FdsReadable)
            {
                t.Row(p.Pid.ToString(Inv), Cut(p.Service, 30), Cut(p.Comm, 16), "?", Limit(p.NofileSoft), Limit(p.NofileHard), "?", "?", "?", "?", "?", "?", "?", "?", "?", "?");
                continue;
            }
            var f = p.Fds ?? new FdCounts();
            var tcp = p.Tcp ?? new TcpStates();
            ulong files = f.RegularFile + f.Directory + f.Memfd;
            ulong other = p.OpenFds - files - f.SocketTcp - f.SocketUdp - f.SocketUnix - f.Pipe;
            t.Row(p.Pid.ToString(Inv), Cut(p.Service, 30), Cut(p.Comm, 16), Human(p.OpenFds), Limit(p.NofileSoft), Limit(p.NofileHard),
                Pct(p.NofileSoft is > 0 and < ulong.MaxValue ? 100.0 * p.OpenFds / p.NofileSoft : 0),
                Human(files), Human(f.SocketTcp), Human(f.SocketUdp), Human(f.SocketUnix), Human(f.Pipe), Human(other),
                Human(tcp.Established), Human(tcp.CloseWait), Human(tcp.Listen));
        }
        t.WriteTo(o, "  ");
    }

    private static void WriteCloseWait(Snapshot s, TextWriter o, int top)
    {
        var byRemote = new Dictionary<(string, uint), (ulong Count, List<string> Holders)>();
        foreach (var p in s.Processes)
        {
            foreach (var r in p.CloseWaitRemotes)
            {
                var key = (r.Address, r.Port);
                if (!byRemote.TryGetValue(key, out var entry))
                {
                    entry = (0, new List<string>());
                }
                entry.Count += r.Count;
                entry.Holders.Add($"{p.Comm}[{p.Pid}] {p.Service} ({r.Count})");
                byRemote[key] = entry;
            }
        }
        ulong total = s.Processes.Aggregate(0UL, (sum, p) => sum + (p.Tcp?.CloseWait ?? 0));
        o.WriteLine($"CLOSE_WAIT BY REMOTE ENDPOINT ({total.ToString(Inv)} sockets whose peer has closed but this host has not)");
        if (byRemote.Count == 0)
        {
            o.WriteLine("  none");
            return;
        }
        var t = new Table();
        t.Row("REMOTE", "COUNT", "HELD BY");
        foreach (var ((address, port), (count, holders)) in byRemote.OrderByDescending(kv => kv.Value.Count).Take(top))
        {
            string endpoint = address.Contains(':', StringComparison.Ordinal) ? $"[{address}]:{port}" : $"{address}:{port}";
            t.Row(endpoint, Human(count), Cut(string.Join(", ", holders.Take(4)) + (holders.Count > 4 ? $", +{holders.Count - 4} more" : ""), 100));
        }
        t.WriteTo(o, "  ");
    }

    private static string Source(Service.Types.Source source) => source switch
    {
        Service.Types.Source.Rule => "rule",
        Service.Types.Source.Kubernetes => "k8s",
        Service.Types.Source.Container => "container",
        Service.Types.Source.Systemd => "systemd",
        Service.Types.Source.Executable => "exe",
        _ => "?",
    };

    private static string Endpoint(RemoteEndpointCount r) =>
        r.Address.Contains(':', StringComparison.Ordinal) ? $"[{r.Address}]:{r.Port}" : $"{r.Address}:{r.Port}";

    private static ulong Total(TcpStates? t) => t is null ? 0 :
        t.Established + t.SynSent + t.SynRecv + t.FinWait1 + t.FinWait2 + t.TimeWait + t.Close + t.CloseWait + t.LastAck + t.Listen + t.Closing + t.NewSynRecv;

    private static string Ms(Google.Protobuf.WellKnownTypes.Duration? d) =>
        d is null ? "?" : d.ToTimeSpan().TotalMilliseconds.ToString("0.0", Inv);

    private static string Limit(ulong limit) => limit == ulong.MaxValue ? "unlimited" : Human(limit);

    private static string Percent(ulong used, ulong max) => max == 0 ? "" : Pct(100.0 * used / max);

    private static string Pct(double p) => p >= 10 ? p.ToString("0", Inv) + "%" : p.ToString("0.0", Inv) + "%";

    /// <summary>1234 → 1.2k, 2466165 → 2.5M; small numbers as they are.</summary>
    public static string Human(ulong n) => n switch
    {
        < 10_000 => n.ToString(Inv),
        < 1_000_000 => (n / 1000.0).ToString(n < 100_000 ? "0.0" : "0", Inv) + "k",
        < 1_000_000_000 => (n / 1e6).ToString(n < 100_000_000 ? "0.0" : "0", Inv) + "M",
        _ => (n / 1e9).ToString("0.0", Inv) + "G",
    };

    private static string Cut(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    /// <summary>Left-aligned text columns padded to the widest cell.</summary>
    private sealed class Table
    {
        private readonly List<string[]> _rows = new();

        public void Row(params string[] cells) => _rows.Add(cells);

        public void WriteTo(TextWriter o, string indent)
        {
            int columns = _rows.Max(r => r.Length);
            var widths = new int[columns];
            foreach (var row in _rows)
            {
                for (int i = 0; i < row.Length; i++)
                {
                    widths[i] = Math.Max(widths[i], row[i].Length);
                }
            }
            foreach (var row in _rows)
            {
                var line = new System.Text.StringBuilder(indent);
                for (int i = 0; i < row.Length; i++)
                {
                    line.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
                }
                o.WriteLine(line.ToString().TrimEnd());
            }
        }
    }
}
