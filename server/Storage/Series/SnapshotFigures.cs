using Fleet.Contracts.V1;
using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;

namespace Fleet.Server.Storage.Series;

/// <summary>How the contract's figures become column values, and which processes a snapshot keeps (pure functions).</summary>
internal static class SnapshotFigures
{
    /// <summary>A count into an integer column (saturating: a process holds at most fs.nr_open, below 2^31, fds).</summary>
    public static int Count(ulong value) => value > int.MaxValue ? int.MaxValue : (int)value;

    public static int Count(uint value) => value > int.MaxValue ? int.MaxValue : (int)value;

    public static long Long(ulong value) => value > long.MaxValue ? long.MaxValue : (long)value;

    /// <summary>An RLIMIT_NOFILE into an integer column: -1 for unlimited (the kernel caps the limit at fs.nr_open, below 2^31).</summary>
    public static int Limit(ulong value) => value > int.MaxValue ? -1 : (int)value;

    public static long Microseconds(Duration? d) => d is null ? 0 : d.Seconds * 1_000_000 + d.Nanos / 1_000;

    /// <summary>The process's open fds in percent of its soft limit; 0 when the limit is unlimited or unknown (as the contract does for services).</summary>
    public static double SoftLimitPercent(Process p) =>
        p.NofileSoft == 0 || p.NofileSoft > int.MaxValue ? 0 : p.OpenFds * 100.0 / p.NofileSoft;

    /// <summary>A timestamp at PostgreSQL's precision (microseconds), in UTC.</summary>
    public static DateTime Time(Timestamp t) => new(t.ToDateTime().Ticks / 10 * 10, DateTimeKind.Utc);

    public static DateTime Minute(DateTime t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Utc);

    /// <summary>
    /// The latest snapshot as kept for a host: everything but the processes, of which only the ones that
    /// matter (the same selection as process_samples: top by fds, top by % of the soft limit, and every one
    /// with CLOSE_WAIT), plus those the agent could not read. agent_cost.processes_seen keeps the total.
    /// </summary>
    public static Snapshot LatestKept(Snapshot snapshot, int top)
    {
        var kept = SelectProcesses(snapshot, top);
        int unreadable = 0;
        foreach (var p in snapshot.Processes)
        {
            if (!p.FdsReadable)
            {
                unreadable++;
            }
        }
        if (kept.Count + unreadable == snapshot.Processes.Count)
        {
            return snapshot;
        }
        // A new message that shares the unchanged parts: nothing else is copied.
        var trimmed = new Snapshot
        {
            ContractVersion = snapshot.ContractVersion,
            Host = snapshot.Host,
            Sequence = snapshot.Sequence,
            CollectedAt = snapshot.CollectedAt,
            CollectionDuration = snapshot.CollectionDuration,
            UnownedTcp = snapshot.UnownedTcp,
            System = snapshot.System,
            AgentCost = snapshot.AgentCost,
        };
        trimmed.Services.AddRange(snapshot.Services);
        trimmed.NetworkNamespaces.AddRange(snapshot.NetworkNamespaces);
        var keep = new HashSet<Process>(kept, ReferenceEqualityComparer.Instance);
        foreach (var p in snapshot.Processes)
        {
            if (!p.FdsReadable || keep.Contains(p))
            {
                trimmed.Processes.Add(p);
            }
        }
        return trimmed;
    }

    /// <summary>
    /// The processes kept for a snapshot, in snapshot order: the top <paramref name="top"/> by open fds, the top
    /// <paramref name="top"/> by percent of the soft limit, and every process with CLOSE_WAIT sockets. Processes
    /// whose fds could not be read have no figures and are not kept.
    /// </summary>
    public static List<Process> SelectProcesses(Snapshot snapshot, int top)
    {
        var processes = snapshot.Processes;
        var keep = new bool[processes.Count];
        int readable = 0;
        for (int i = 0; i < processes.Count; i++)
        {
            var p = processes[i];
            if (!p.FdsReadable)
            {
                continue;
            }
            readable++;
            if ((p.Tcp?.CloseWait ?? 0) > 0 || p.CloseWaitRemotes.Count > 0)
            {
                keep[i] = true;
            }
        }
        if (readable > top)
        {
            MarkTop(processes, null, top, keep);
            var percent = new double[processes.Count];
            for (int i = 0; i < processes.Count; i++)
            {
                percent[i] = processes[i].FdsReadable ? SoftLimitPercent(processes[i]) : 0;
            }
            MarkTop(processes, percent, top, keep);
        }
        else
        {
            for (int i = 0; i < processes.Count; i++)
            {
                keep[i] |= processes[i].FdsReadable;
            }
        }
        var kept = new List<Process>();
        for (int i = 0; i < processes.Count; i++)
        {
            if (keep[i])
            {
                kept.Add(processes[i]);
            }
        }
        return kept;
    }

    /// <summary>
    /// Marks the <paramref name="top"/> readable processes ranked first: by <paramref name="percent"/> when given, then by
    /// open fds (both descending), then by pid. One pass keeping the best in order (top is small; a snapshot has hundreds).
    /// </summary>
    private static void MarkTop(RepeatedField<Process> processes, double[]? percent, int top, bool[] keep)
    {
        var best = new int[top];
        int count = 0;
        for (int i = 0; i < processes.Count; i++)
        {
            if (!processes[i].FdsReadable || (count == top && Compare(processes, percent, i, best[top - 1]) >= 0))
            {
                continue;
            }
            int j = count < top ? count++ : top - 1;
            while (j > 0 && Compare(processes, percent, i, best[j - 1]) < 0)
            {
                best[j] = best[j - 1];
                j--;
            }
            best[j] = i;
        }
        for (int k = 0; k < count; k++)
        {
            keep[best[k]] = true;
        }

        static int Compare(RepeatedField<Process> p, double[]? percent, int a, int b)
        {
            int c = percent is null ? 0 : percent[b].CompareTo(percent[a]);
            c = c != 0 ? c : p[b].OpenFds.CompareTo(p[a].OpenFds);
            c = c != 0 ? c : p[a].Pid.CompareTo(p[b].Pid);
            return c != 0 ? c : a.CompareTo(b);
        }
    }

    /// <summary>The service closest to its soft limit (ties: more open fds), among services with a readable process; null when none.</summary>
    public static Service? WorstService(Snapshot snapshot)
    {
        Service? worst = null;
        foreach (var s in snapshot.Services)
        {
            if (s.ProcessCount <= s.UnreadableProcessCount)
            {
                continue;
            }
            if (worst is null
                || s.WorstSoftLimitPercent > worst.WorstSoftLimitPercent
                || (s.WorstSoftLimitPercent == worst.WorstSoftLimitPercent && s.WorstOpenFds > worst.WorstOpenFds))
            {
                worst = s;
            }
        }
        return worst;
    }

    /// <summary>Fds the worst process of the service may still open: to its soft limit, or to fs.nr_open when the limit is unlimited.</summary>
    public static long HeadroomFds(Service worst, SystemFigures? system)
    {
        ulong limit = worst.WorstNofileSoft is > 0 and <= int.MaxValue ? worst.WorstNofileSoft : system?.NrOpen ?? 0;
        return limit > worst.WorstOpenFds ? Long(limit - worst.WorstOpenFds) : 0;
    }
}
