using System.Globalization;

namespace Fleet.Web.Display;

/// <summary>
/// Readable figures for people under pressure: 1234 -> "1.2k", 87.4 -> "87%", 3_400_000 bytes -> "3.2 MiB",
/// 95 s -> "1 min 35 s", "12 s ago". <see cref="Exact(ulong)"/> gives the invariant form that data-value attributes carry.
/// </summary>
public static class Figures
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>A count: exact below 1000, then one decimal with k, M, G, T ("1.2k", "12.3k", "123k", "1.5M").</summary>
    public static string Count(double value)
    {
        if (double.IsNaN(value))
        {
            return "–";
        }
        var sign = value < 0 ? "-" : "";
        var abs = Math.Abs(value);
        if (abs < 1000)
        {
            return sign + Math.Round(abs).ToString("0", Inv);
        }
        string[] units = ["k", "M", "G", "T", "P"];
        var scaled = abs;
        var unit = -1;
        while (scaled >= 999.95 && unit < units.Length - 1)
        {
            scaled /= 1000;
            unit++;
        }
        return sign + (scaled >= 100 ? scaled.ToString("0", Inv) : scaled.ToString("0.#", Inv)) + units[unit];
    }

    public static string Count(ulong value) => value == ulong.MaxValue ? "∞" : Count((double)value);

    public static string Count(long value) => Count((double)value);

    public static string Count(int value) => Count((double)value);

    /// <summary>A signed change: "+12", "-1.2k", "0".</summary>
    public static string Change(long value) => value > 0 ? "+" + Count(value) : Count(value);

    /// <summary>A percentage: whole above 10 ("87%"), one decimal below ("7.5%"), "0%" for zero.</summary>
    public static string Percent(double percent)
    {
        if (double.IsNaN(percent) || double.IsInfinity(percent))
        {
            return "–";
        }
        return Math.Abs(percent) >= 10 || percent == 0
            ? Math.Round(percent).ToString("0", Inv) + "%"
            : percent.ToString("0.#", Inv) + "%";
    }

    /// <summary>Used as a percentage of max (0 when max is 0, unknown).</summary>
    public static double PercentOf(ulong used, ulong max) => max == 0 ? 0 : 100.0 * used / max;

    /// <summary>Bytes in binary units: "512 B", "1.5 KiB", "12.3 MiB", "2 GiB".</summary>
    public static string Bytes(ulong bytes)
    {
        if (bytes < 1024)
        {
            return bytes.ToString(Inv) + " B";
        }
        string[] units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
        double scaled = bytes;
        var unit = -1;
        while (scaled >= 1023.95 && unit < units.Length - 1)
        {
            scaled /= 1024;
            unit++;
        }
        return (scaled >= 100 ? scaled.ToString("0", Inv) : scaled.ToString("0.#", Inv)) + " " + units[unit];
    }

    /// <summary>A duration: "850 ms", "12 s", "4 min 5 s", "2 h 5 min", "3 d 4 h"; "1.2 ms" and "350 µs" when short.</summary>
    public static string Duration(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            return "-" + Duration(duration.Negate());
        }
        if (duration < TimeSpan.FromMilliseconds(1))
        {
            return Math.Round(duration.TotalMicroseconds).ToString("0", Inv) + " µs";
        }
        if (duration < TimeSpan.FromMilliseconds(10))
        {
            return duration.TotalMilliseconds.ToString("0.#", Inv) + " ms";
        }
        if (duration < TimeSpan.FromSeconds(1))
        {
            return Math.Round(duration.TotalMilliseconds).ToString("0", Inv) + " ms";
        }
        if (duration < TimeSpan.FromSeconds(10))
        {
            return duration.TotalSeconds.ToString("0.#", Inv) + " s";
        }
        if (duration < TimeSpan.FromMinutes(1))
        {
            return ((int)duration.TotalSeconds).ToString(Inv) + " s";
        }
        if (duration < TimeSpan.FromHours(1))
        {
            return Pair((int)duration.TotalMinutes, "min", duration.Seconds, "s");
        }
        if (duration < TimeSpan.FromDays(1))
        {
            return Pair((int)duration.TotalHours, "h", duration.Minutes, "min");
        }
        return Pair((int)duration.TotalDays, "d", duration.Hours, "h");
    }

    /// <summary>How long ago: "just now", "12 s ago", "5 min ago", "2 h 5 min ago", "never"; "in 3 s" for a clock ahead of ours.</summary>
    public static string Relative(DateTimeOffset? then, DateTimeOffset now)
    {
        if (then is not { } at)
        {
            return "never";
        }
        var age = now - at;
        if (age < TimeSpan.Zero)
        {
            return age > TimeSpan.FromSeconds(-1) ? "just now" : "in " + Duration(age.Negate());
        }
        return age < TimeSpan.FromSeconds(1) ? "just now" : Duration(Truncate(age)) + " ago";
    }

    /// <summary>A point in time for people: "2026-11-28 07:58:12 UTC".</summary>
    public static string Timestamp(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Inv) + " UTC" : "never";

    /// <summary>The invariant, exact form for data-value attributes.</summary>
    public static string Exact(ulong value) => value.ToString(Inv);

    public static string Exact(long value) => value.ToString(Inv);

    public static string Exact(int value) => value.ToString(Inv);

    public static string Exact(double value) => value.ToString(Inv);

    private static string Pair(int major, string majorUnit, int minor, string minorUnit) =>
        minor == 0
            ? string.Create(Inv, $"{major} {majorUnit}")
            : string.Create(Inv, $"{major} {majorUnit} {minor} {minorUnit}");

    // Ages read in whole seconds: "12 s ago", not "12.4 s ago".
    private static TimeSpan Truncate(TimeSpan age) =>
        age < TimeSpan.FromSeconds(10) ? TimeSpan.FromSeconds(Math.Floor(age.TotalSeconds)) : age;
}
