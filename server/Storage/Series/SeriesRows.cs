using System.Net;
using Fleet.Contracts.V1;
using Npgsql;
using static Fleet.Server.Storage.Series.SnapshotFigures;

namespace Fleet.Server.Storage.Series;

/// <summary>
/// The series rows of a batch of snapshots, one binary COPY image per table (service, process, CLOSE_WAIT and
/// host samples), sent with one COPY per table. The store fills it inside its transaction; the benchmark fills
/// one ahead of time to time a bare COPY of exactly the rows ingest writes.
/// </summary>
internal sealed class SeriesRows : IDisposable
{
    public static readonly string CopyServices = SeriesColumns.Copy("service_samples", SeriesColumns.ServiceSamples);
    public static readonly string CopyProcesses = SeriesColumns.Copy("process_samples", SeriesColumns.ProcessSamples);
    public static readonly string CopyCloseWait = SeriesColumns.Copy("close_wait_samples", SeriesColumns.CloseWaitSamples);
    public static readonly string CopyHosts = SeriesColumns.Copy("host_samples", SeriesColumns.HostSamples);

    private static readonly FdCounts NoFds = new();
    private static readonly TcpStates NoTcp = new();
    private static readonly SystemFigures NoSystem = new();
    private static readonly AgentCost NoCost = new();

    private readonly int _topProcesses;

    public SeriesRows(int snapshots, int topProcesses)
    {
        _topProcesses = topProcesses;
        int n = Math.Max(1, snapshots);
        Services = new CopyImage(SeriesColumns.ServiceSamples.Length, n * 4 * 1024);
        Processes = new CopyImage(SeriesColumns.ProcessSamples.Length, n * 8 * 1024);
        CloseWait = new CopyImage(SeriesColumns.CloseWaitSamples.Length, n * 1024);
        Hosts = new CopyImage(SeriesColumns.HostSamples.Length, n * 512);
    }

    public CopyImage Services { get; }

    public CopyImage Processes { get; }

    public CopyImage CloseWait { get; }

    public CopyImage Hosts { get; }

    public int Snapshots { get; private set; }

    public long Rows => (long)Services.Rows + Processes.Rows + CloseWait.Rows + Hosts.Rows;

    public long Bytes => (long)Services.Length + Processes.Length + CloseWait.Length + Hosts.Length;

    /// <summary>Adds the rows of one snapshot; <paramref name="serviceIds"/> has the id of every service name the snapshot uses.</summary>
    public void Add(int hostId, Snapshot snapshot, DateTime time, IReadOnlyDictionary<string, int> serviceIds)
    {
        AddServices(hostId, snapshot, time, serviceIds);
        AddProcesses(hostId, snapshot, time, serviceIds);
        AddCloseWait(hostId, snapshot, time, serviceIds);
        AddHost(hostId, snapshot, time, serviceIds);
        Snapshots++;
    }

    /// <summary>One binary COPY per table that has rows, on the connection's current transaction.</summary>
    public async Task CopyAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        foreach (var (image, sql) in new[] { (Services, CopyServices), (Processes, CopyProcesses), (CloseWait, CopyCloseWait), (Hosts, CopyHosts) })
        {
            if (image.Rows > 0)
            {
                await image.CopyAsync(connection, sql, ct).ConfigureAwait(false);
            }
        }
    }

    public void Dispose()
    {
        Services.Dispose();
        Processes.Dispose();
        CloseWait.Dispose();
        Hosts.Dispose();
    }

    private void AddServices(int hostId, Snapshot snapshot, DateTime time, IReadOnlyDictionary<string, int> ids)
    {
        var w = Services;
        foreach (var s in snapshot.Services)
        {
            w.StartRow();
            w.WriteTime(time);
            w.Write(ids[s.Name]);
            w.Write(hostId);
            w.Write(Count(s.ProcessCount));
            w.Write(Count(s.UnreadableProcessCount));
            w.Write(Count(s.OpenFds));
            WriteFds(w, s.Fds ?? NoFds);
            w.Write(s.WorstPid);
            w.Write(Count(s.WorstOpenFds));
            w.Write(Limit(s.WorstNofileSoft));
            w.Write(Limit(s.WorstNofileHard));
            w.Write((float)s.WorstSoftLimitPercent);
            WriteTcp(w, s.Tcp ?? NoTcp);
        }
    }

    private void AddProcesses(int hostId, Snapshot snapshot, DateTime time, IReadOnlyDictionary<string, int> ids)
    {
        var w = Processes;
        foreach (var p in SelectProcesses(snapshot, _topProcesses))
        {
            var f = p.Fds ?? NoFds;
            w.StartRow();
            w.WriteTime(time);
            w.Write(Long(p.StartTimeTicks));
            w.Write(hostId);
            w.Write(ids[p.Service]);
            w.Write(p.Pid);
            w.Write(Count(p.OpenFds));
            w.Write(Limit(p.NofileSoft));
            w.Write(Limit(p.NofileHard));
            w.Write((float)SoftLimitPercent(p));
            w.Write(Count(f.RegularFile));
            w.Write(Count(f.Directory));
            w.Write(Count(f.Pipe + f.Fifo));
            w.Write(Count(f.SocketTcp));
            w.Write(Count(f.SocketUdp));
            w.Write(Count(f.SocketUnix));
            w.Write(Count(f.SocketNetlink + f.SocketOther));
            w.Write(Count(f.Eventpoll + f.Eventfd + f.Timerfd + f.Signalfd + f.Inotify + f.AnonInodeOther));
            w.Write(Count(f.CharDevice + f.BlockDevice + f.Memfd + f.Other));
            WriteTcp(w, p.Tcp ?? NoTcp);
            w.Write(p.Comm);
        }
    }

    private void AddCloseWait(int hostId, Snapshot snapshot, DateTime time, IReadOnlyDictionary<string, int> ids)
    {
        var w = CloseWait;
        for (int i = 0; i < snapshot.Processes.Count; i++)
        {
            var p = snapshot.Processes[i];
            for (int j = 0; j < p.CloseWaitRemotes.Count; j++)
            {
                var r = p.CloseWaitRemotes[j];
                if (!IPAddress.TryParse(r.Address, out var address))
                {
                    throw new ArgumentException($"processes[{i}].close_wait_remotes[{j}].address: '{r.Address}' is not an IP address", nameof(snapshot));
                }
                w.StartRow();
                w.WriteTime(time);
                w.Write(hostId);
                w.Write(ids[p.Service]);
                w.Write(p.Pid);
                w.Write(Count(r.Port));
                w.Write(Count(r.Count));
                w.Write(address);
            }
        }
    }

    private void AddHost(int hostId, Snapshot snapshot, DateTime time, IReadOnlyDictionary<string, int> ids)
    {
        var sys = snapshot.System ?? NoSystem;
        var unowned = snapshot.UnownedTcp ?? NoTcp;
        var cost = snapshot.AgentCost ?? NoCost;
        int processes = 0, unreadable = 0;
        long openFds = 0, closeWait = 0, established = 0;
        foreach (var s in snapshot.Services)
        {
            processes += Count(s.ProcessCount);
            unreadable += Count(s.UnreadableProcessCount);
            openFds += Long(s.OpenFds);
            closeWait += Long(s.Tcp?.CloseWait ?? 0);
            established += Long(s.Tcp?.Established ?? 0);
        }
        var worst = WorstService(snapshot);
        IPAddress? topAddress = null;
        if (sys.TopEphemeralRemote is { } top && !IPAddress.TryParse(top.Address, out topAddress))
        {
            throw new ArgumentException($"system.top_ephemeral_remote.address: '{top.Address}' is not an IP address", nameof(snapshot));
        }
        long[] uidArray = [.. sys.InotifyByUser.Select(u => (long)u.Uid)];
        long[] instanceArray = [.. sys.InotifyByUser.Select(u => Long(u.Instances))];

        var w = Hosts;
        w.StartRow();
        w.WriteTime(time);
        w.Write(hostId);
        w.Write(Long(sys.FileHandlesAllocated));
        w.Write(Long(sys.FileHandlesMax));
        w.Write(Long(sys.NrOpen));
        w.Write(Count(sys.EphemeralPortLow));
        w.Write(Count(sys.EphemeralPortHigh));
        w.Write(Long(sys.EphemeralPortsInUse));
        w.Write(topAddress);
        if (topAddress is null)
        {
            w.WriteNull();
            w.WriteNull();
        }
        else
        {
            w.Write(Count(sys.TopEphemeralRemote!.Port));
            w.Write(Long(sys.TopEphemeralRemote.Count));
        }
        w.Write(Long(sys.TcpMaxOrphans));
        w.Write(Long(sys.TcpOrphans));
        w.Write(Long(sys.TcpTimeWait));
        w.Write(Count(sys.TcpFinTimeoutSeconds));
        w.Write((short)Math.Clamp(sys.TcpTwReuse, short.MinValue, short.MaxValue));
        w.Write(sys.ConntrackPresent);
        w.Write(Long(sys.ConntrackCount));
        w.Write(Long(sys.ConntrackMax));
        w.Write(Long(sys.InotifyMaxUserInstances));
        w.Write(Long(sys.InotifyMaxUserWatches));
        w.Write(uidArray);
        w.Write(instanceArray);
        WriteTcp(w, unowned);
        w.Write(processes);
        w.Write(unreadable);
        w.Write(openFds);
        w.Write(closeWait);
        w.Write(established);
        if (worst is null)
        {
            w.WriteNull();
        }
        else
        {
            w.Write(ids[worst.Name]);
        }
        w.Write((float)(worst?.WorstSoftLimitPercent ?? 0));
        w.Write(worst is null ? 0 : HeadroomFds(worst, sys));
        w.Write(snapshot.NetworkNamespaces.Count);
        w.Write(Microseconds(snapshot.CollectionDuration));
        w.Write(Microseconds(cost.Cpu));
        w.Write(Microseconds(cost.Wall));
        w.Write(Long(cost.ResidentBytes));
        w.Write(Count(cost.ProcessesSeen));
        w.Write(Count(cost.ProcessesUnreadable));
        w.Write(Count(cost.ProcessesVanished));
        w.Write(Count(cost.MalformedLines));
        w.Write(Count(cost.ProcessesRescanned));
        w.Write(Long(cost.FdsRead));
    }

    private static void WriteFds(CopyImage w, FdCounts f)
    {
        w.Write(Count(f.RegularFile));
        w.Write(Count(f.Directory));
        w.Write(Count(f.Pipe));
        w.Write(Count(f.Fifo));
        w.Write(Count(f.SocketTcp));
        w.Write(Count(f.SocketUdp));
        w.Write(Count(f.SocketUnix));
        w.Write(Count(f.SocketNetlink));
        w.Write(Count(f.SocketOther));
        w.Write(Count(f.CharDevice));
        w.Write(Count(f.BlockDevice));
        w.Write(Count(f.Eventpoll));
        w.Write(Count(f.Eventfd));
        w.Write(Count(f.Timerfd));
        w.Write(Count(f.Signalfd));
        w.Write(Count(f.Inotify));
        w.Write(Count(f.AnonInodeOther));
        w.Write(Count(f.Memfd));
        w.Write(Count(f.Other));
    }

    private static void WriteTcp(CopyImage w, TcpStates t)
    {
        w.Write(Count(t.Established));
        w.Write(Count(t.SynSent));
        w.Write(Count(t.SynRecv));
        w.Write(Count(t.FinWait1));
        w.Write(Count(t.FinWait2));
        w.Write(Count(t.TimeWait));
        w.Write(Count(t.Close));
        w.Write(Count(t.CloseWait));
        w.Write(Count(t.LastAck));
        w.Write(Count(t.Listen));
        w.Write(Count(t.Closing));
        w.Write(Count(t.NewSynRecv));
    }
}
