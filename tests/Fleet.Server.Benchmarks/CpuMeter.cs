using System.Globalization;

namespace Fleet.Server.Benchmarks;

/// <summary>CPU time used so far by this process and by every PostgreSQL process (the cluster's), from /proc.</summary>
internal readonly record struct CpuSample(TimeSpan Own, TimeSpan Postgres)
{
    public static CpuSample Take() => new(System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime, PostgresTime());

    public static CpuSample operator -(CpuSample a, CpuSample b) => new(a.Own - b.Own, a.Postgres - b.Postgres);

    private static TimeSpan PostgresTime()
    {
        // utime and stime (fields 14 and 15 of /proc/PID/stat) in clock ticks of 1/100 s on Linux.
        long ticks = 0;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!char.IsAsciiDigit(Path.GetFileName(dir)[0]))
            {
                continue;
            }
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                int close = stat.LastIndexOf(')');
                if (close < 0 || !stat.AsSpan(0, close).EndsWith("(postgres", StringComparison.Ordinal))
                {
                    continue;
                }
                string[] fields = stat[(close + 2)..].Split(' ');
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended meanwhile.
            }
        }
        return TimeSpan.FromMilliseconds(ticks * 10);
    }
}
