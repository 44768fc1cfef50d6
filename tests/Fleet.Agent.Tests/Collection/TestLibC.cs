using System.Runtime.InteropServices;

namespace Fleet.Agent.Tests.Collection;

/// <summary>The libc calls the tests need to make fds, fixture nodes and limits the BCL has no API for.</summary>
internal static unsafe partial class TestLibC
{
    public const int EFD_CLOEXEC = 0x80000;
    public const int O_CLOEXEC = 0x80000;
    public const int RLIMIT_NOFILE = 7;
    public const int AT_FDCWD = -100;
    public const uint STATX_TYPE = 0x1;
    public const uint S_IFBLK = 0x6000;
    public const uint S_IFSOCK = 0xC000;

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Soft;
        public ulong Hard;
    }

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int oldFd, int newFd);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    public static partial int GetRLimit(int resource, RLimit* limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    public static partial int SetRLimit(int resource, RLimit* limit);

    [LibraryImport("libc", EntryPoint = "mkfifo", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkFifo(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "mknod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkNod(string path, uint mode, ulong device);

    /// <summary>Per-thread: changes the uid used for file permission checks (and drops CAP_DAC_* while it is not 0).</summary>
    [LibraryImport("libc", EntryPoint = "setfsuid")]
    public static partial int SetFsUid(uint fsuid);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "getxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint GetXattr(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int dirFd, string path, int flags, uint mask, byte* statxBuffer);

    [LibraryImport("libc", EntryPoint = "sysconf")]
    public static partial long SysConf(int name);

    public const int SC_CLK_TCK = 2;

    public static int Check(int rc, string what) =>
        rc >= 0 ? rc : throw new InvalidOperationException($"{what} failed: errno {Marshal.GetLastPInvokeError()}");

    /// <summary>The S_IFMT bits of what <paramref name="path"/> resolves to (following links), or -1.</summary>
    public static int FileType(string path)
    {
        byte* buffer = stackalloc byte[256];
        if (Statx(AT_FDCWD, path, 0, STATX_TYPE, buffer) != 0)
        {
            return -1;
        }
        return *(ushort*)(buffer + 28) & 0xF000;
    }

    /// <summary>The kernel's protocol name of a socket behind an fd link ("TCP", "UNIX-STREAM"...), or "".</summary>
    public static string SocketProtocol(string fdPath)
    {
        byte* value = stackalloc byte[64];
        nint n = GetXattr(fdPath, "system.sockprotoname", value, 63);
        return n <= 0 ? "" : System.Text.Encoding.ASCII.GetString(value, (int)n).TrimEnd('\0');
    }

    public static RLimit GetNofile()
    {
        RLimit limit;
        Check(GetRLimit(RLIMIT_NOFILE, &limit), "getrlimit");
        return limit;
    }

    public static void SetNofile(RLimit limit) => Check(SetRLimit(RLIMIT_NOFILE, &limit), "setrlimit");

    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Check(Pipe2(fds, O_CLOEXEC), "pipe2");
        return (fds[0], fds[1]);
    }
}
