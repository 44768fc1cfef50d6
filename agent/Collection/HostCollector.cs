using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Fleet.Agent.Collection.Native;
using Fleet.Agent.Collection.Procfs;

namespace Fleet.Agent.Collection;

internal sealed class CollectorOptions
{
    /// <summary>The procfs root: /proc on a host, a fixture tree in tests, /host/proc in a container.</summary>
    public string ProcRoot { get; init; } = "/proc";

    public string MachineIdPath { get; init; } = "/etc/machine-id";

    /// <summary>Where Docker keeps container configs (for container names); empty to skip.</summary>
    public string DockerRoot { get; init; } = "/var/lib/docker";

    /// <summary>Command lines are cut at this many bytes.</summary>
    public int CmdlineMaxBytes { get; init; } = 4096;

    /// <summary>
    /// Skip re-reading the fds of a process whose threads have not run since the previous collection
    /// (a process cannot change its fd table without running). Off: every collection reads everything.
    /// </summary>
    public bool Incremental { get; init; } = true;
}

/// <summary>The procfs root could not be opened at all.</summary>
internal sealed class CollectorException(string message) : Exception(message);

/// <summary>
/// Collects every process, fd, TCP socket and host limit from a procfs tree. One instance is reused
/// across collections: it remembers each process (by pid and start time) so that processes that have not
/// run since the last collection are not read again in full, while socket states, limits and cgroups are
/// read afresh every time. Not thread-safe: one collection at a time.
/// </summary>
internal sealed unsafe class HostCollector
{
    private const int LinkBufferSize = 4096;

    private readonly CollectorOptions _options;
    private readonly Dictionary<int, ProcessRecord> _records = new();
    private readonly Dictionary<ulong, NamespaceSockets> _namespaces = new();
    /// <summary>Families of non-TCP sockets already identified, with the round each was last needed in.</summary>
    private readonly Dictionary<ulong, (FdKind Kind, uint Round)> _familyCache = new();
    private readonly byte[] _netlinkBuffer = new byte[64 * 1024];
    private readonly PathKinds _pathKinds = new();
    // Reused every collection (bounded: 65,536 ports, one entry per remote endpoint).
    private readonly System.Collections.BitArray _portsInUse = new(65536);
    private readonly Dictionary<Endpoint, ulong> _ephemeralByRemote = new();
    private ulong _ownNetNs;
    /// <summary>The agent's own pid as the procfs root numbers it (its "self" link), 0 when it has none.</summary>
    private int _selfPid;
    private readonly SocketTableReader _tables = new();
    private readonly SystemReader _system = new();
    private readonly ContainerNames _containerNames;
    private readonly byte[] _dents = new byte[32 * 1024];
    private readonly byte[] _taskDents = new byte[8 * 1024];
    private readonly byte[] _link = new byte[LinkBufferSize];
    private byte[] _file = new byte[16 * 1024];
    private readonly long _clockTicks;
    private readonly byte[] _procRootBytes;
    private DateTimeOffset? _bootTime;
    private bool _schedstatAvailable = true;
    /// <summary>Whether this kernel reports the fd count as the size of /proc/PID/fd (checked on the agent itself).</summary>
    private bool _fdDirSizeIsCount;
    private uint _round;

    public HostCollector(CollectorOptions? options = null)
    {
        _options = options ?? new CollectorOptions();
        _containerNames = new ContainerNames(_options.DockerRoot, _options.ProcRoot);
        _procRootBytes = Encoding.UTF8.GetBytes(_options.ProcRoot);
        long tck = LibC.SysConf(LibC.SC_CLK_TCK);
        _clockTicks = tck > 0 ? tck : 100;
    }

    public CollectorOptions Options => _options;

    public HostCollection Collect()
    {
        var wall = Stopwatch.StartNew();
        var cpuBefore = LibC.ProcessCpuTime();
        var collectedAt = DateTimeOffset.UtcNow;
        _round++;

        using var root = ProcDir.OpenRoot(_options.ProcRoot, out int rootErrno);
        if (!root.IsOpen)
        {
            throw new CollectorException($"cannot open the procfs root '{_options.ProcRoot}': {Errno.Describe(rootErrno)}");
        }
        _bootTime ??= _system.ReadBootTime(root);
        _pathKinds.Clear();
        var stats = new CollectionStats();
        uint malformed = 0;
        int selfLen = root.ReadLink("self/ns/net"u8, _link);
        _ownNetNs = selfLen > 0 && ProcParsers.TryParseBracketInode(_link.AsSpan(0, selfLen), "net:["u8, out ulong own) ? own : 0;
        if (_round == 1)
        {
            // The agent has stdin/stdout/stderr at least: a size of 0 means the kernel does not count.
            using var selfDir = root.OpenDir("self"u8, out _);
            _fdDirSizeIsCount = selfDir is not null && selfDir.Size("fd"u8) > 0;
        }
        selfLen = root.ReadLink("self"u8, _link);
        _selfPid = selfLen > 0 && ProcParsers.TryParseInt(_link.AsSpan(0, selfLen), out int self) ? self : 0;
        if (_selfPid == 0)
        {
            // The agent is not in this procfs's pid namespace: its sockets cannot be told apart here.
            _ownNetNs = 0;
        }
        var host = _system.ReadHost(root, _options.MachineIdPath);

        foreach (var ns in _namespaces.Values)
        {
            ns.Reset();
        }

        var processes = new List<ProcessRecord>(_records.Count + 16);
        var pids = ListPids(root);
        foreach (int pid in pids)
        {
            var record = ReadProcess(root, pid, stats, ref malformed);
            if (record is not null)
            {
                processes.Add(record);
            }
        }

        // Forget processes that are gone and namespaces nobody is in any more.
        if (_records.Count > processes.Count)
        {
            var stale = new List<int>();
            foreach (var (pid, rec) in _records)
            {
                if (rec.CollectionRound != _round)
                {
                    stale.Add(pid);
                }
            }
            foreach (int pid in stale)
            {
                _records.Remove(pid);
            }
        }
        var goneNamespaces = new List<ulong>();
        foreach (var (inode, ns) in _namespaces)
        {
            if (!ns.TcpRead)
            {
                goneNamespaces.Add(inode);
            }
        }
        foreach (ulong inode in goneNamespaces)
        {
            _namespaces.Remove(inode);
        }
        PruneFamilyCache();

        var unowned = Attribute(processes);
        var system = new SystemInfo();
        _system.Read(root, system, ref malformed);
        ReadHostNetwork(root, processes, system);
        foreach (var p in processes)
        {
            if (p.FdsReadable && p.InotifyInstances > 0)
            {
                system.InotifyByUser.TryGetValue(p.Uid, out ulong n);
                system.InotifyByUser[p.Uid] = n + p.InotifyInstances;
            }
        }

        var namespaces = new List<NamespaceInfo>(_namespaces.Count);
        foreach (var ns in _namespaces.Values)
        {
            malformed += ns.MalformedLines;
            namespaces.Add(new NamespaceInfo
            {
                Inode = ns.Inode,
                ReaderPid = ns.ReaderPid,
                ProcessCount = ns.ProcessCount,
                TcpSockets = (ulong)ns.Tcp.Count,
                MalformedLines = ns.MalformedLines,
            });
        }

        stats.ProcessesSeen = (uint)processes.Count;
        stats.MalformedLines = malformed;
        stats.Wall = wall.Elapsed;
        stats.Cpu = LibC.ProcessCpuTime() - cpuBefore;
        stats.ResidentBytes = ResidentBytes();
        return new HostCollection
        {
            Host = host,
            CollectedAt = collectedAt,
            Processes = processes,
            UnownedTcp = unowned,
            System = system,
            Namespaces = namespaces,
            Stats = stats,
        };
    }

    private List<int> ListPids(ProcDir root)
    {
        var pids = new List<int>(Math.Max(64, _records.Count + 16));
        fixed (byte* buf = _dents)
        {
            var entries = new DirEntries(root, buf, _dents.Length);
            while (entries.MoveNext(out byte* name))
            {
                int pid = NameZ.ParsePid(name);
                if (pid > 0)
                {
                    pids.Add(pid);
                }
            }
        }
        return pids;
    }

    private ProcessRecord? ReadProcess(ProcDir root, int pid, CollectionStats stats, ref uint malformed)
    {
        using var dir = OpenPidDir(root, pid);
        if (dir is null)
        {
            stats.ProcessesVanished++;
            return null;
        }
        int n = dir.ReadFile("stat"u8, ref _file);
        if (n < 0)
        {
            stats.ProcessesVanished++;
            return null;
        }
        if (!ProcParsers.TryParseStat(_file.AsSpan(0, n), out var stat))
        {
            malformed++;
            return null;
        }
        if (stat.IsKernelThread)
        {
            return null;
        }
        if (stat.HasExited)
        {
            // A zombie: it has exited and holds no fds any more; its parent has not reaped it yet.
            stats.ProcessesVanished++;
            return null;
        }
        if (!_records.TryGetValue(pid, out var rec) || rec.StartTicks != stat.StartTicks)
        {
            rec = new ProcessRecord { Pid = pid, StartTicks = stat.StartTicks, NeedsRescan = true, RuntimeNs = ulong.MaxValue };
            _records[pid] = rec;
        }
        rec.CollectionRound = _round;
        rec.Comm = stat.Comm;
        rec.Ppid = stat.Ppid;
        rec.Threads = stat.Threads;
        if (_bootTime is { } boot)
        {
            rec.StartTime = boot.AddSeconds((double)stat.StartTicks / _clockTicks);
        }

        // Limits and cgroup can be changed from outside (prlimit, a cgroup move): read every time.
        n = dir.ReadFile("limits"u8, ref _file);
        if (n < 0)
        {
            return Vanished(rec, stats);
        }
        if (ProcParsers.TryParseNofile(_file.AsSpan(0, n), out ulong soft, out ulong hard))
        {
            rec.NofileSoft = soft;
            rec.NofileHard = hard;
        }
        else
        {
            malformed++;
        }
        n = dir.ReadFile("cgroup"u8, ref _file);
        if (n >= 0)
        {
            var raw = _file.AsSpan(0, n);
            if (!rec.CgroupRaw.AsSpan().SequenceEqual(raw))
            {
                rec.CgroupRaw = raw.ToArray();
                var details = Cgroups.Parse(Encoding.UTF8.GetString(raw));
                _containerNames.Fill(details, pid);
                rec.Cgroup = details;
            }
        }

        bool rescan = rec.NeedsRescan || !_options.Incremental || !rec.FdsReadable || !_schedstatAvailable;
        // Proving a process unchanged costs a read per thread: worth it only where there are many fds to skip.
        ulong fdsThreshold = 2UL * rec.Threads + 16;
        bool checkRuntime = _options.Incremental && _schedstatAvailable
            && (rec.NeedsRescan ? FdCountHint(dir) is not { } hint || hint > fdsThreshold : rec.OpenFds > fdsThreshold);
        if (!rescan && !checkRuntime)
        {
            // A process with few fds is cheaper to read again than to prove unchanged.
            rescan = true;
        }
        if (checkRuntime)
        {
            bool known = TryReadRuntime(dir, out ulong runtime, out long signature);
            if (!known || runtime != rec.RuntimeNs || signature != rec.ThreadSignature)
            {
                rescan = true;
            }
            rec.RuntimeNs = known ? runtime : ulong.MaxValue;
            rec.ThreadSignature = signature;
        }
        else
        {
            rec.RuntimeNs = ulong.MaxValue;
        }

        if (rescan)
        {
            if (!ReadIdentity(dir, rec, ref malformed))
            {
                return Vanished(rec, stats);
            }
        }
        rec.NeedsRescan = false;

        NamespaceSockets? ns = null;
        if (rec.NetNamespace != 0)
        {
            ns = EnsureNamespace(dir, rec);
        }

        if (rescan)
        {
            stats.ProcessesRescanned++;
            if (!ScanFds(dir, rec, ns, stats))
            {
                return Vanished(rec, stats);
            }
        }
        if (!rec.FdsReadable)
        {
            stats.ProcessesUnreadable++;
        }
        return rec;
    }

    private ProcessRecord? Vanished(ProcessRecord rec, CollectionStats stats)
    {
        stats.ProcessesVanished++;
        _records.Remove(rec.Pid);
        return null;
    }

    /// <summary>Reads what only the process itself can change: uid, command line, executable, network namespace.</summary>
    private bool ReadIdentity(ProcDir dir, ProcessRecord rec, ref uint malformed)
    {
        int n = dir.ReadFile("status"u8, ref _file);
        if (n < 0)
        {
            return false;
        }
        if (ProcParsers.TryParseStatusEuid(_file.AsSpan(0, n), out uint euid))
        {
            rec.Uid = euid;
        }
        else
        {
            malformed++;
        }
        n = dir.ReadFile("cmdline"u8, ref _file, _options.CmdlineMaxBytes + 2);
        if (n >= 0)
        {
            rec.Cmdline = TextSanitizer.Clean(_file.AsSpan(0, n), _options.CmdlineMaxBytes, out bool truncated);
            rec.CmdlineTruncated = truncated;
        }
        n = dir.ReadLink("exe"u8, _link);
        rec.Exe = n > 0 ? TextSanitizer.Clean(_link.AsSpan(0, n), 1024, out _) : "";
        n = dir.ReadLink("ns/net"u8, _link);
        rec.NetNamespace = n > 0 && ProcParsers.TryParseBracketInode(_link.AsSpan(0, n), "net:["u8, out ulong netns) ? netns : 0;
        return true;
    }

    /// <summary>Reads a namespace's TCP tables the first time this collection meets a process inside it.</summary>
    private NamespaceSockets? EnsureNamespace(ProcDir dir, ProcessRecord rec)
    {
        if (!_namespaces.TryGetValue(rec.NetNamespace, out var ns))
        {
            ns = new NamespaceSockets(rec.NetNamespace);
            _namespaces[rec.NetNamespace] = ns;
        }
        if (!ns.TcpRead)
        {
            if (ns.Inode == _ownNetNs && InetDiag.TryDumpTcp(_netlinkBuffer, s => ns.AddTcp(s), out uint bad))
            {
                // The agent's own namespace: one netlink dump instead of walking /proc/net/tcp.
                ns.TcpRead = true;
                ns.MalformedLines += bad;
                ns.ReaderPid = _selfPid;
            }
            else
            {
                // A dump that failed partway may have left part of the table: read it whole from /proc.
                ns.DiscardTcp();
                if (_tables.ReadTcp(dir, ns))
                {
                    ns.ReaderPid = rec.Pid;
                }
            }
        }
        ns.ProcessCount++;
        return ns.TcpRead ? ns : null;
    }

    /// <summary>
    /// The summed run time (ns) of all the process's threads and a signature of its thread ids, from
    /// /proc/PID/task/TID/schedstat. Unchanged figures mean the process has not run since they were read.
    /// </summary>
    private bool TryReadRuntime(ProcDir dir, out ulong runtime, out long signature)
    {
        runtime = 0;
        signature = 0;
        using var task = dir.OpenDir("task"u8, out _);
        if (task is null)
        {
            return false;
        }
        Span<byte> path = stackalloc byte[32];
        int count = 0;
        fixed (byte* buf = _taskDents)
        {
            var entries = new DirEntries(task, buf, _taskDents.Length);
            while (entries.MoveNext(out byte* name))
            {
                var tid = NameZ.AsSpan(name);
                if (tid.Length > 12)
                {
                    return false;
                }
                tid.CopyTo(path);
                "/schedstat"u8.CopyTo(path[tid.Length..]);
                int n = task.ReadFile(path[..(tid.Length + 10)], ref _file);
                if (n < 0)
                {
                    if (-n == LibC.ENOENT && FileExistsIn(task, tid))
                    {
                        // The thread is there but the kernel has no schedstat: change detection is off.
                        _schedstatAvailable = false;
                    }
                    return false;
                }
                if (!ProcParsers.TryParseSchedstatRuntime(_file.AsSpan(0, n), out ulong ns))
                {
                    return false;
                }
                runtime += ns;
                int tidValue = NameZ.ParsePid(name);
                signature += (long)((ulong)tidValue * 0x9E3779B97F4A7C15UL >> 1);
                count++;
            }
            if (entries.Error != 0)
            {
                return false;
            }
        }
        signature ^= (long)count << 48;
        return count > 0;
    }

    /// <summary>The fd count the kernel reports as the size of /proc/PID/fd (Linux 6.2+); null where it does not.</summary>
    private ulong? FdCountHint(ProcDir dir)
    {
        if (!_fdDirSizeIsCount)
        {
            return null;
        }
        long size = dir.Size("fd"u8);
        return size >= 0 ? (ulong)size : null;
    }

    private static bool FileExistsIn(ProcDir dir, ReadOnlySpan<byte> name)
    {
        using var sub = dir.OpenDir(name, out _);
        return sub is not null;
    }

    /// <summary>Reads every fd of the process. Returns false when the process went away meanwhile.</summary>
    private bool ScanFds(ProcDir dir, ProcessRecord rec, NamespaceSockets? ns, CollectionStats stats)
    {
        rec.Fds.Clear();
        rec.TcpInodes.Clear();
        rec.OpenFds = 0;
        using var fdDir = dir.OpenDir("fd"u8, out int errno);
        if (fdDir is null)
        {
            if (errno is LibC.ENOENT or LibC.ESRCH)
            {
                return false;
            }
            // Permission denied (or anything else that is not "gone"): unknown, never zero.
            MarkUnreadable(rec);
            return true;
        }
        ulong count = 0;
        FdRead result;
        // Linux 6.2+ reports the number of open fds as the size of /proc/PID/fd. Asked once the folder is
        // open, so that for the agent itself the descriptor of that folder is counted too.
        long expected = _fdDirSizeIsCount ? fdDir.OwnSize() : -1;

        // fds are handed out lowest first, so fd tables are dense: read fd 0, 1, 2, ... directly until all
        // the fds the kernel counted are found, which saves listing the folder. A run of holes (a sparse
        // table) hands over to the listing, from where the probing stopped.
        int next = 0;
        bool listRest = expected < 0;
        if (!listRest)
        {
            byte* name = stackalloc byte[12];
            int misses = 0;
            while ((long)count < expected)
            {
                WriteNameZ(next, name);
                result = ReadFd(dir, fdDir, rec, ns, name);
                next++;
                if (result == FdRead.Unreadable)
                {
                    MarkUnreadable(rec);
                    return true;
                }
                if (result == FdRead.Counted)
                {
                    count++;
                    misses = 0;
                }
                else if (++misses == MaxProbeMisses)
                {
                    listRest = true;
                    break;
                }
            }
        }
        if (listRest)
        {
            // getdents positions in /proc/PID/fd are fd + 2 (after "." and ".."): continue after the probed fds.
            if (next > 0 && LibC.LSeek(fdDir.Fd, next + 2, LibC.SEEK_SET) < 0)
            {
                return false;
            }
            fixed (byte* buf = _dents)
            {
                var entries = new DirEntries(fdDir, buf, _dents.Length);
                while (entries.MoveNext(out byte* name))
                {
                    result = ReadFd(dir, fdDir, rec, ns, name);
                    if (result == FdRead.Unreadable)
                    {
                        MarkUnreadable(rec);
                        return true;
                    }
                    if (result == FdRead.Counted)
                    {
                        count++;
                    }
                }
                if (entries.Error is LibC.ENOENT or LibC.ESRCH)
                {
                    return false;
                }
            }
        }
        stats.FdsRead += count;
        rec.OpenFds = count;
        rec.FdsReadable = true;
        // Did the process exit while its fds were being read? Then the figures are partial: drop them.
        int n2 = dir.ReadFile("stat"u8, ref _file);
        return n2 >= 0 && ProcParsers.TryParseStat(_file.AsSpan(0, n2), out var after) && !after.HasExited;
    }

    /// <summary>Consecutive fd numbers found closed before probing gives way to listing the folder.</summary>
    private const int MaxProbeMisses = 16;

    private enum FdRead
    {
        Counted,
        /// <summary>No such fd (closed meanwhile, or a hole in the table).</summary>
        Absent,
        Unreadable,
    }

    /// <summary>Reads and classifies one fd, adding it to the process's counts.</summary>
    private FdRead ReadFd(ProcDir dir, ProcDir fdDir, ProcessRecord rec, NamespaceSockets? ns, byte* name)
    {
        var link = _link.AsSpan();
        int n = fdDir.ReadLinkZ(name, link);
        if (n < 0)
        {
            return -n is LibC.EACCES or LibC.EPERM ? FdRead.Unreadable : FdRead.Absent;
        }
        var target = link[..n];
        switch (FdClassifier.Classify(target, out FdKind kind, out ulong inode))
        {
            case FdClassifier.LinkKind.Path:
                if (!_pathKinds.TryGet(target, out kind))
                {
                    int type = fdDir.FileTypeZ(name);
                    if (type < 0)
                    {
                        return FdRead.Absent;
                    }
                    kind = FdClassifier.FromFileType(type);
                    _pathKinds.Remember(target, kind);
                }
                break;
            case FdClassifier.LinkKind.Socket:
                kind = SocketFamily(dir, rec, ns, inode, name);
                if (kind == FdKind.SocketTcp)
                {
                    rec.TcpInodes.Add(inode);
                }
                break;
        }
        rec.Fds.Add(kind);
        return FdRead.Counted;
    }

    private static void WriteNameZ(int fd, byte* name)
    {
        var span = new Span<byte>(name, 12);
        fd.TryFormat(span, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        span[written] = 0;
    }

    private static void MarkUnreadable(ProcessRecord rec)
    {
        rec.FdsReadable = false;
        rec.Fds.Clear();
        rec.TcpInodes.Clear();
        rec.OpenFds = 0;
    }

    private FdKind SocketFamily(ProcDir pidDir, ProcessRecord rec, NamespaceSockets? ns, ulong inode, byte* name)
    {
        if (ns is not null && ns.TryGetTcp(inode, out _))
        {
            return FdKind.SocketTcp;
        }
        if (_familyCache.TryGetValue(inode, out var cached))
        {
            _familyCache[inode] = (cached.Kind, _round);
            return cached.Kind;
        }
        // Ask the socket itself (one getxattr); a TCP socket that is in no table is not yet connected or was reset.
        var kind = SocketFamilyFromXattr(rec.Pid, name);
        if (kind == FdKind.SocketOther && ns is not null)
        {
            // No answer (a fixture tree, an old kernel): look the inode up in the namespace's other tables.
            if (!ns.OtherFamiliesLoaded)
            {
                ns.SetOtherFamilies(_tables.ReadOtherFamilies(pidDir, ns));
            }
            ns.TryGetOtherFamily(inode, out kind);
        }
        if (kind != FdKind.SocketTcp)
        {
            _familyCache[inode] = (kind, _round);
        }
        return kind;
    }

    /// <summary>Forgets socket families not needed for a while, so the cache stays bounded by what is open.</summary>
    private void PruneFamilyCache()
    {
        if (_round % 16 != 0)
        {
            return;
        }
        var old = new List<ulong>();
        foreach (var (inode, entry) in _familyCache)
        {
            if (_round - entry.Round > 16)
            {
                old.Add(inode);
            }
        }
        foreach (ulong inode in old)
        {
            _familyCache.Remove(inode);
        }
    }

    private static ProcDir? OpenPidDir(ProcDir root, int pid)
    {
        Span<byte> pidName = stackalloc byte[12];
        pid.TryFormat(pidName, out int len, default, System.Globalization.CultureInfo.InvariantCulture);
        return root.OpenDir(pidName[..len], out _);
    }

    private FdKind SocketFamilyFromXattr(int pid, byte* fdName)
    {
        // "<procfs>/<pid>/fd/<n>", built without allocating.
        var fd = NameZ.AsSpan(fdName);
        Span<byte> path = stackalloc byte[_procRootBytes.Length + 40];
        if (_procRootBytes.Length + fd.Length + 20 > path.Length)
        {
            return FdKind.SocketOther;
        }
        _procRootBytes.CopyTo(path);
        int at = _procRootBytes.Length;
        path[at++] = (byte)'/';
        pid.TryFormat(path[at..], out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        at += written;
        "/fd/"u8.CopyTo(path[at..]);
        at += 4;
        fd.CopyTo(path[at..]);
        at += fd.Length;
        path[at] = 0;
        byte* value = stackalloc byte[64];
        nint n;
        fixed (byte* p = path)
        fixed (byte* attr = "system.sockprotoname\0"u8)
        {
            n = LibC.GetXattr(p, attr, value, 63);
        }
        if (n <= 0)
        {
            return FdKind.SocketOther;
        }
        var proto = new ReadOnlySpan<byte>(value, (int)n).TrimEnd((byte)0);
        return proto switch
        {
            _ when proto.SequenceEqual("TCP"u8) || proto.SequenceEqual("TCPv6"u8) || proto.SequenceEqual("MPTCP"u8) => FdKind.SocketTcp,
            _ when proto.StartsWith("UDP"u8) => FdKind.SocketUdp,
            _ when proto.StartsWith("UNIX"u8) => FdKind.SocketUnix,
            _ when proto.SequenceEqual("NETLINK"u8) => FdKind.SocketNetlink,
            _ => FdKind.SocketOther,
        };
    }

    /// <summary>
    /// Looks every held TCP socket up in its namespace's fresh table: per-process state counts and
    /// CLOSE_WAIT remotes; whatever no process holds is counted per host by state.
    /// </summary>
    private TcpStateCounts Attribute(List<ProcessRecord> processes)
    {
        foreach (var p in processes)
        {
            p.Tcp.Clear();
            p.CloseWaitRemotes.Clear();
            if (!p.FdsReadable || p.TcpInodes.Count == 0)
            {
                continue;
            }
            _namespaces.TryGetValue(p.NetNamespace, out var ns);
            foreach (ulong inode in p.TcpInodes)
            {
                if (ns is not null && ns.TryGetTcp(inode, out int index))
                {
                    var socket = ns.Tcp[index];
                    ns.TcpOwned[index] = true;
                    p.Tcp.Add(socket.State);
                    if (socket.State == TcpState.CloseWait)
                    {
                        p.CloseWaitRemotes.TryGetValue(socket.Remote, out ulong c);
                        p.CloseWaitRemotes[socket.Remote] = c + 1;
                    }
                }
                else
                {
                    // Held but in no table: not bound or connected yet, or reset by the peer.
                    p.Tcp.Add(TcpState.Close);
                }
            }
        }
        var unowned = default(TcpStateCounts);
        foreach (var ns in _namespaces.Values)
        {
            for (int i = 0; i < ns.Tcp.Count; i++)
            {
                if (!ns.TcpOwned[i])
                {
                    unowned.Add(ns.Tcp[i].State);
                }
            }
        }
        return unowned;
    }

    /// <summary>Ephemeral ports, orphans and TIME_WAIT of the host's own network namespace (that of pid 1).</summary>
    private void ReadHostNetwork(ProcDir root, List<ProcessRecord> processes, SystemInfo system)
    {
        ulong hostNs = 0;
        foreach (var p in processes)
        {
            if (p.Pid == 1)
            {
                hostNs = p.NetNamespace;
                break;
            }
        }
        if (hostNs == 0)
        {
            int n = root.ReadLink("self/ns/net"u8, _link);
            if (n > 0)
            {
                ProcParsers.TryParseBracketInode(_link.AsSpan(0, n), "net:["u8, out hostNs);
            }
        }
        if (!_namespaces.TryGetValue(hostNs, out var ns) || ns.ReaderPid == 0)
        {
            return;
        }
        using (var readerDir = OpenPidDir(root, ns.ReaderPid))
        {
            if (readerDir is not null)
            {
                _system.ReadSockstat(readerDir, system);
            }
        }
        uint low = system.EphemeralLow;
        uint high = system.EphemeralHigh;
        if (high == 0 || high < low)
        {
            return;
        }
        var ports = _portsInUse;
        ports.SetAll(false);
        ulong inUse = 0;
        var byRemote = _ephemeralByRemote;
        byRemote.Clear();
        foreach (var socket in ns.Tcp)
        {
            if (socket.State == TcpState.Listen || socket.Local.Port < low || socket.Local.Port > high)
            {
                continue;
            }
            if (!ports[socket.Local.Port])
            {
                ports[socket.Local.Port] = true;
                inUse++;
            }
            byRemote.TryGetValue(socket.Remote, out ulong c);
            byRemote[socket.Remote] = c + 1;
        }
        system.EphemeralPortsInUse = inUse;
        foreach (var (remote, count) in byRemote)
        {
            if (count > system.TopEphemeralRemotePorts)
            {
                system.TopEphemeralRemote = remote;
                system.TopEphemeralRemotePorts = count;
            }
        }
    }

    private ulong ResidentBytes()
    {
        using var self = ProcDir.OpenRoot("/proc/self", out _);
        if (!self.IsOpen)
        {
            return 0;
        }
        int n = self.ReadFile("statm"u8, ref _file, 256);
        Span<ulong> v = stackalloc ulong[2];
        if (n > 0 && ProcParsers.ParseNumbers(_file.AsSpan(0, n), v) == 2)
        {
            return v[1] * (ulong)Environment.SystemPageSize;
        }
        return 0;
    }
}

internal static class Errno
{
    public static string Describe(int errno) => errno switch
    {
        LibC.ENOENT => "no such file or directory",
        LibC.EACCES => "permission denied",
        LibC.EPERM => "operation not permitted",
        LibC.ENOTDIR => "not a directory",
        _ => $"errno {errno}",
    };
}
