using Fleet.Contracts.V1;
using Fleet.Server.Storage.Series;
using Fleet.Web.Data;

namespace Fleet.Server.Live;

/// <summary>The summary of a stored snapshot that pages and hub clients receive (pure function of the snapshot).</summary>
public static class LiveSummaries
{
    /// <summary>At most this many CLOSE_WAIT remotes per service travel with a summary (the largest).</summary>
    public const int MaxRemotesPerService = 20;

    public static LiveSnapshot Summarize(Snapshot snapshot, string hostName, DateTimeOffset storedAt)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var services = new List<LiveService>(snapshot.Services.Count);
        ulong openFds = 0, closeWait = 0;
        foreach (var s in snapshot.Services)
        {
            openFds += s.OpenFds;
            closeWait += s.Tcp?.CloseWait ?? 0;
            services.Add(new LiveService(
                s.Name,
                (int)Math.Min(s.ProcessCount, int.MaxValue),
                s.OpenFds,
                s.WorstPid,
                s.WorstOpenFds,
                s.WorstNofileSoft,
                s.WorstNofileHard,
                s.WorstSoftLimitPercent,
                s.Tcp?.CloseWait ?? 0,
                s.Tcp?.Established ?? 0,
                [.. s.CloseWaitRemotes.OrderByDescending(r => r.Count).Take(MaxRemotesPerService).Select(r => new LiveRemote(Endpoint(r.Address, r.Port), r.Count))]));
        }
        closeWait += snapshot.UnownedTcp?.CloseWait ?? 0;
        var system = snapshot.System ?? new SystemFigures();
        // The same worst service and headroom as storage keeps in host_samples, so a live row matches a reloaded one.
        var worst = SnapshotFigures.WorstService(snapshot);
        ulong headroom = worst is null ? 0 : (ulong)SnapshotFigures.HeadroomFds(worst, snapshot.System);
        ulong portRange = system.EphemeralPortHigh >= system.EphemeralPortLow && system.EphemeralPortHigh > 0
            ? system.EphemeralPortHigh - (ulong)system.EphemeralPortLow + 1 : 0;
        var host = new LiveHost(
            hostName,
            snapshot.Host?.MachineId ?? "",
            snapshot.Sequence,
            snapshot.CollectedAt?.ToDateTimeOffset() ?? storedAt,
            storedAt,
            snapshot.Host?.AgentVersion ?? "",
            (int)Math.Min(snapshot.AgentCost?.ProcessesSeen ?? (uint)snapshot.Processes.Count, int.MaxValue),
            (int)Math.Min(snapshot.AgentCost?.ProcessesUnreadable ?? 0, int.MaxValue),
            openFds,
            closeWait,
            worst?.Name,
            worst?.WorstSoftLimitPercent ?? 0,
            headroom,
            system.FileHandlesAllocated,
            system.FileHandlesMax,
            system.EphemeralPortsInUse,
            portRange,
            system.TcpOrphans,
            system.TcpMaxOrphans,
            system.ConntrackCount,
            system.ConntrackMax);
        return new LiveSnapshot(host, services);
    }

    /// <summary>"10.0.3.7:443", "[2001:db8::1]:443".</summary>
    public static string Endpoint(string address, uint port) =>
        address.Contains(':', StringComparison.Ordinal) ? $"[{address}]:{port}" : $"{address}:{port}";
}
