namespace Fleet.Agent.Collection;

/// <summary>
/// Classifies an fd from the target of its /proc/PID/fd link. Paths need the file type as well
/// (regular file, directory, FIFO, device), which the caller gets with statx only when it is needed.
/// </summary>
internal static class FdClassifier
{
    public enum LinkKind
    {
        /// <summary>"socket:[inode]"; the family comes from the namespace's tables.</summary>
        Socket,
        /// <summary>A filesystem path: the type comes from statx.</summary>
        Path,
        /// <summary>Known from the link text alone.</summary>
        Resolved,
    }

    public static LinkKind Classify(ReadOnlySpan<byte> link, out FdKind kind, out ulong inode)
    {
        inode = 0;
        kind = FdKind.Other;
        if (link.IsEmpty)
        {
            return LinkKind.Resolved;
        }
        if (link[0] == (byte)'/')
        {
            if (link.StartsWith("/memfd:"u8))
            {
                kind = FdKind.Memfd;
                return LinkKind.Resolved;
            }
            return LinkKind.Path;
        }
        if (link.StartsWith("socket:["u8))
        {
            kind = FdKind.SocketOther;
            Procfs.ProcParsers.TryParseBracketInode(link, "socket:["u8, out inode);
            return LinkKind.Socket;
        }
        if (link.StartsWith("pipe:["u8))
        {
            kind = FdKind.Pipe;
            return LinkKind.Resolved;
        }
        if (link.StartsWith("anon_inode:"u8))
        {
            var what = link["anon_inode:"u8.Length..];
            kind = what switch
            {
                _ when what.SequenceEqual("[eventpoll]"u8) => FdKind.Eventpoll,
                _ when what.SequenceEqual("[eventfd]"u8) => FdKind.Eventfd,
                _ when what.SequenceEqual("[timerfd]"u8) => FdKind.Timerfd,
                _ when what.SequenceEqual("[signalfd]"u8) => FdKind.Signalfd,
                _ when what.SequenceEqual("inotify"u8) || what.SequenceEqual("[inotify]"u8) => FdKind.Inotify,
                _ => FdKind.AnonInodeOther,
            };
            return LinkKind.Resolved;
        }
        return LinkKind.Resolved;
    }

    /// <summary>Maps the S_IFMT bits of a path's target to a kind.</summary>
    public static FdKind FromFileType(int sIfmt) => sIfmt switch
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
