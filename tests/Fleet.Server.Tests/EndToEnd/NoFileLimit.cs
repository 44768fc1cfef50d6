using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Fleet.Server.Tests.EndToEnd;

/// <summary>This process's RLIMIT_NOFILE straight from getrlimit(2), to compare with what the agent read from /proc.</summary>
internal static partial class NoFileLimit
{
    private const int RlimitNofile = 7;

    public static ulong Soft()
    {
        if (GetRLimit(RlimitNofile, out var limit) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "getrlimit(RLIMIT_NOFILE)");
        }
        return limit.Current;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    // DllImport, not LibraryImport: this test project does not allow unsafe code, which the generator needs.
    [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetRLimit(int resource, out RLimit limit);
}
