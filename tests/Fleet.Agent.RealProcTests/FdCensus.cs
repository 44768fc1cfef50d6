using System.Globalization;
using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection.RealProc;

/// <summary>
/// An independent count of this process's fds by kind, made the plain way: list /proc/self/fd, read each
/// link, type paths with stat (following the link) and sockets with their system.sockprotoname xattr.
/// The listing holds one directory fd of its own (/proc/PID/fd), which is counted like any other.
/// </summary>
internal sealed class FdCensus
{
    private FdCensus(SortedDictionary<int, (string Link, FdKind Kind)> fds) => Fds = fds;

    public SortedDictionary<int, (string Link, FdKind Kind)> Fds { get; }

    public ulong Total => (ulong)Fds.Count;

    public ulong this[FdKind kind] => (ulong)Fds.Values.Count(f => f.Kind == kind);

    public static FdCensus Take()
    {
        var fds = new SortedDictionary<int, (string, FdKind)>();
        foreach (string path in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            int fd = int.Parse(Path.GetFileName(path), CultureInfo.InvariantCulture);
            string? link;
            try
            {
                link = new FileInfo(path).LinkTarget;
            }
            catch (IOException)
            {
                link = null;
            }
            if (link is null)
            {
                continue;
            }
            fds[fd] = (link, Classify(path, link));
        }
        return new FdCensus(fds);
    }

    private static FdKind Classify(string path, string link)
    {
        if (link.StartsWith("socket:[", StringComparison.Ordinal))
        {
            string protocol = TestLibC.SocketProtocol(path);
            return protocol switch
            {
                "TCP" or "TCPv6" or "MPTCP" => FdKind.SocketTcp,
                _ when protocol.StartsWith("UDP", StringComparison.Ordinal) => FdKind.SocketUdp,
                _ when protocol.StartsWith("UNIX", StringComparison.Ordinal) => FdKind.SocketUnix,
                "NETLINK" => FdKind.SocketNetlink,
                _ => FdKind.SocketOther,
            };
        }
        if (link.StartsWith("pipe:[", StringComparison.Ordinal))
        {
            return FdKind.Pipe;
        }
        if (link.StartsWith("anon_inode:", StringComparison.Ordinal))
        {
            return link["anon_inode:".Length..] switch
            {
                "[eventpoll]" => FdKind.Eventpoll,
                "[eventfd]" => FdKind.Eventfd,
                "[timerfd]" => FdKind.Timerfd,
                "[signalfd]" => FdKind.Signalfd,
                "inotify" or "[inotify]" => FdKind.Inotify,
                _ => FdKind.AnonInodeOther,
            };
        }
        if (link.StartsWith("/memfd:", StringComparison.Ordinal))
        {
            return FdKind.Memfd;
        }
        if (link.StartsWith('/'))
        {
            return TestLibC.FileType(path) switch
            {
                0x8000 => FdKind.RegularFile,
                0x4000 => FdKind.Directory,
                0x1000 => FdKind.Fifo,
                0x2000 => FdKind.CharDevice,
                0x6000 => FdKind.BlockDevice,
                0xC000 => FdKind.SocketUnix,
                _ => FdKind.Other,
            };
        }
        return FdKind.Other;
    }

    public bool SameAs(FdCensus other) =>
        Fds.Count == other.Fds.Count && Fds.All(kv => other.Fds.TryGetValue(kv.Key, out var o) && o == kv.Value);

    public override string ToString() => string.Join("\n", Fds.Select(kv => $"{kv.Key} -> {kv.Value.Link} ({kv.Value.Kind})"));
}
