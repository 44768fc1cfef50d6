using System.Runtime.InteropServices;

namespace Fleet.Agent.Collection.Native;

/// <summary>
/// The few libc calls the collector needs. /proc is read with openat/getdents64/readlinkat relative to
/// directory descriptors so that no path string is built per fd, and every descriptor the agent opens is
/// closed before the call that opened it returns (the agent must never leak the fds it watches).
/// </summary>
internal static unsafe partial class LibC
{
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EACCES = 13;
    public const int EPERM = 1;
    public const int ENOTDIR = 20;
    public const int ENODATA = 61;
    public const int ERANGE = 34;

    public const int O_RDONLY = 0;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_CLOEXEC = 0x80000;
    public const int AT_FDCWD = -100;

    public const uint STATX_TYPE = 0x1;
    public const uint STATX_INO = 0x100;
    public const uint STATX_SIZE = 0x200;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const int AT_STATX_DONT_SYNC = 0x4000;
    public const int AT_NO_AUTOMOUNT = 0x800;

    public const int RUSAGE_SELF = 0;

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true)]
    public static partial int OpenAt(int dirFd, byte* path, int flags, int mode);

    public const int SEEK_SET = 0;

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    public static partial long LSeek(int fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "getdents64", SetLastError = true)]
    public static partial nint GetDents64(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "readlinkat", SetLastError = true)]
    public static partial nint ReadLinkAt(int dirFd, byte* path, byte* buffer, nuint size);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    public static partial int Statx(int dirFd, byte* path, int flags, uint mask, byte* statxBuffer);

    [LibraryImport("libc", EntryPoint = "getxattr", SetLastError = true)]
    public static partial nint GetXattr(byte* path, byte* name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    public static partial int GetRUsage(int who, RUsage* usage);

    [LibraryImport("libc", EntryPoint = "sysconf")]
    public static partial long SysConf(int name);

    public const int SC_CLK_TCK = 2;
    public const int SC_PAGESIZE = 30;

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }

    /// <summary>struct rusage: two timevals and fourteen longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct RUsage
    {
        public TimeVal UserTime;
        public TimeVal SystemTime;
        public fixed long Rest[14];
    }

    /// <summary>CPU time this process has used so far (user + system), with microsecond resolution.</summary>
    public static TimeSpan ProcessCpuTime()
    {
        RUsage usage;
        if (GetRUsage(RUSAGE_SELF, &usage) != 0)
        {
            return TimeSpan.Zero;
        }
        long micros = (usage.UserTime.Seconds + usage.SystemTime.Seconds) * 1_000_000
            + usage.UserTime.Microseconds + usage.SystemTime.Microseconds;
        return TimeSpan.FromTicks(micros * 10);
    }
}
