using System.Runtime.InteropServices;

namespace Fleet.Agent.Benchmarks.Native;

/// <summary>The few libc calls the runner needs: CPU time of waited-for children, and a file's type.</summary>
internal static partial class LibC
{
    private const int RusageChildren = -1;

    /// <summary>The start of struct rusage on Linux x86_64: user and system time; the rest is padding.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 144)]
    private struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
    }

    /// <summary>struct stat on Linux x86_64: only st_mode (offset 24) is read.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 144)]
    private struct StatBuffer
    {
        [FieldOffset(24)]
        public uint Mode;
    }

    [LibraryImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static partial int GetRusage(int who, out Rusage usage);

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Stat(string path, out StatBuffer buffer);

    /// <summary>
    /// User plus system CPU time of every child this process has waited for (RUSAGE_CHILDREN).
    /// The difference around one child's run is that child's CPU time.
    /// </summary>
    public static TimeSpan ChildrenCpuTime()
    {
        if (GetRusage(RusageChildren, out var usage) != 0)
        {
            throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastPInvokeError()}");
        }
        long micros = (usage.UserSeconds + usage.SystemSeconds) * 1_000_000 + usage.UserMicroseconds + usage.SystemMicroseconds;
        return TimeSpan.FromMicroseconds(micros);
    }

    /// <summary>The S_IFMT bits of what the path points to (links followed), or null when it cannot be read.</summary>
    public static uint? FileType(string path) => Stat(path, out var buffer) == 0 ? buffer.Mode & 0xF000 : null;
}
