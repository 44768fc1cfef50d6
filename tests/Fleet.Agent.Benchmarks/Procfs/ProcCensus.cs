using System.Globalization;
using Fleet.Agent.Benchmarks.Native;

namespace Fleet.Agent.Benchmarks.Procfs;

/// <summary>What the host holds, counted from /proc by the runner itself.</summary>
internal sealed record HostCensus(
    int Processes,
    long OpenFds,
    IReadOnlyDictionary<string, long> TcpByState,
    long TcpWithFd,
    long TcpTotal);

/// <summary>
/// The runner's own reading of /proc, independent of the agent: host-wide totals for the workload report,
/// and one process's figures to check the agent's against. A process that vanishes is skipped, not an error.
/// </summary>
internal static class ProcCensus
{
    private const uint RegularFile = 0x8000;
    private const uint DirectoryType = 0x4000;
    private const uint FifoType = 0x1000;
    private const uint CharDeviceType = 0x2000;
    private const uint BlockDeviceType = 0x6000;
    private const uint SocketType = 0xC000;

    public static HostCensus ReadHost(string procRoot = "/proc")
    {
        int processes = 0;
        long fds = 0;
        foreach (string pidDirectory in Directory.EnumerateDirectories(procRoot))
        {
            if (!int.TryParse(Path.GetFileName(pidDirectory), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                continue;
            }
            processes++;
            fds += CountFds(pidDirectory);
        }
        var tcp = TcpTable.ReadNamespace(Path.Combine(procRoot, "net"));
        var byState = tcp.GroupBy(t => t.State).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        return new HostCensus(processes, fds, byState, tcp.Count(t => t.Inode != 0), tcp.Count);
    }

    /// <summary>The number of entries of /proc/PID/fd, or 0 when the process is gone or hidden.</summary>
    public static long CountFds(string pidDirectory)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries(Path.Combine(pidDirectory, "fd")).LongCount();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>
    /// One process's figures: every fd link read and classified (paths by the type of what they point
    /// to, sockets by the tables of the process's own network namespace), TCP states and CLOSE_WAIT remotes
    /// of its own sockets, and "Max open files" from its limits.
    /// </summary>
    public static ProcessFigures ReadProcess(int pid, string procRoot = "/proc")
    {
        string pidDirectory = Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture));
        var links = new List<(string Path, string Link)>();
        foreach (string fdPath in Directory.EnumerateFileSystemEntries(Path.Combine(pidDirectory, "fd")))
        {
            if (new FileInfo(fdPath).LinkTarget is { } link)
            {
                links.Add((fdPath, link));
            }
        }
        var tcp = ReadSocketsOf(Path.Combine(pidDirectory, "net"), links.Select(l => SocketInode(l.Link)).OfType<ulong>().ToHashSet());

        var fds = new Dictionary<string, long>(StringComparer.Ordinal);
        var states = new Dictionary<string, long>(StringComparer.Ordinal);
        var closeWaitRemotes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (fdPath, link) in links)
        {
            string kind = Classify(fdPath, link, tcp, out var socket);
            Increment(fds, kind);
            if (socket is { } s)
            {
                Increment(states, s.State);
                if (s.State == "CloseWait")
                {
                    Increment(closeWaitRemotes, s.Remote);
                }
            }
        }
        var (soft, hard) = ReadNofile(Path.Combine(pidDirectory, "limits"));
        return new ProcessFigures(links.Count, fds, states, closeWaitRemotes, soft, hard);
    }

    /// <summary>
    /// The namespace's TCP sockets by inode. /proc/net/tcp is printed a chunk at a time, and a chunk can
    /// skip rows when other sockets leave the table meanwhile (TIME_WAIT and orphans expiring): when one of
    /// the <paramref name="wanted"/> inodes is missing, the tables are read again and the reads merged.
    /// </summary>
    private static Dictionary<ulong, TcpEntry> ReadSocketsOf(string netDirectory, HashSet<ulong> wanted)
    {
        const int Reads = 4;
        var sockets = new Dictionary<ulong, TcpEntry>();
        for (int read = 0; read < Reads && !wanted.All(sockets.ContainsKey); read++)
        {
            foreach (var entry in TcpTable.ReadNamespace(netDirectory))
            {
                if (entry.Inode != 0)
                {
                    sockets.TryAdd(entry.Inode, entry);
                }
            }
        }
        return sockets;
    }

    private static ulong? SocketInode(string link) =>
        link.StartsWith("socket:[", StringComparison.Ordinal) ? ulong.Parse(link.AsSpan(8, link.Length - 9), CultureInfo.InvariantCulture) : null;

    private static string Classify(string fdPath, string link, Dictionary<ulong, TcpEntry> tcp, out TcpEntry? socket)
    {
        socket = null;
        if (SocketInode(link) is { } inode)
        {
            if (tcp.TryGetValue(inode, out var entry))
            {
                socket = entry;
                return "SocketTcp";
            }
            return "SocketOther";
        }
        if (link.StartsWith("pipe:[", StringComparison.Ordinal))
        {
            return "Pipe";
        }
        if (link.StartsWith("anon_inode:", StringComparison.Ordinal))
        {
            return link["anon_inode:".Length..] switch
            {
                "[eventfd]" => "Eventfd",
                "[eventpoll]" => "Eventpoll",
                "[timerfd]" => "Timerfd",
                "[signalfd]" => "Signalfd",
                "inotify" or "[inotify]" => "Inotify",
                _ => "AnonInodeOther",
            };
        }
        if (link.StartsWith("/memfd:", StringComparison.Ordinal))
        {
            return "Memfd";
        }
        if (link.StartsWith('/'))
        {
            return LibC.FileType(fdPath) switch
            {
                RegularFile => "RegularFile",
                DirectoryType => "Directory",
                FifoType => "Fifo",
                CharDeviceType => "CharDevice",
                BlockDeviceType => "BlockDevice",
                SocketType => "SocketUnix",
                _ => "Other",
            };
        }
        return "Other";
    }

    private static (long Soft, long Hard) ReadNofile(string limitsPath)
    {
        foreach (string line in File.ReadLines(limitsPath))
        {
            if (!line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                continue;
            }
            string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return (ParseLimit(fields[0]), ParseLimit(fields[1]));
        }
        return (-1, -1);
    }

    private static long ParseLimit(string text) =>
        text == "unlimited" ? long.MaxValue : long.Parse(text, CultureInfo.InvariantCulture);

    private static void Increment(Dictionary<string, long> counts, string key) =>
        counts[key] = counts.GetValueOrDefault(key) + 1;
}
