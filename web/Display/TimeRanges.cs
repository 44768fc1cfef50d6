using System.Globalization;
using Fleet.Web.Data;

namespace Fleet.Web.Display;

/// <summary>
/// The time ranges of the pages and their URL form: range=15m|1h|6h|24h|7d|30d follows now (live);
/// range=custom with from/to (ISO 8601) is a fixed window. Anything else reads as the default, the last hour.
/// </summary>
public static class TimeRanges
{
    public const string Custom = "custom";
    public const string DefaultKey = "1h";

    /// <summary>The relative ranges, shortest first, with their length.</summary>
    public static IReadOnlyList<(string Key, TimeSpan Length)> Relative { get; } =
    [
        ("15m", TimeSpan.FromMinutes(15)),
        ("1h", TimeSpan.FromHours(1)),
        ("6h", TimeSpan.FromHours(6)),
        ("24h", TimeSpan.FromHours(24)),
        ("7d", TimeSpan.FromDays(7)),
        ("30d", TimeSpan.FromDays(30)),
    ];

    /// <summary>Reads the URL's range, from and to into a window ending now, or the fixed window of a valid custom range.</summary>
    public static TimeWindow Parse(string? range, string? from, string? to, DateTimeOffset now)
    {
        if (string.Equals(range, Custom, StringComparison.OrdinalIgnoreCase)
            && TryParseInstant(from, out var f) && TryParseInstant(to, out var t) && f < t)
        {
            return new TimeWindow(f, t, Live: false, Custom);
        }
        foreach (var (key, length) in Relative)
        {
            if (string.Equals(range, key, StringComparison.OrdinalIgnoreCase))
            {
                return new TimeWindow(now - length, now, Live: true, key);
            }
        }
        return new TimeWindow(now - TimeSpan.FromHours(1), now, Live: true, DefaultKey);
    }

    /// <summary>The same relative range, moved to end at <paramref name="now"/> (a custom window stays as it is).</summary>
    public static TimeWindow Follow(TimeWindow window, DateTimeOffset now) =>
        window.Live ? window with { From = now - window.Length, To = now } : window;

    /// <summary>The query parameters of a window: range, and from/to for a custom one (null removes them from a URL).</summary>
    public static IReadOnlyDictionary<string, object?> ToQuery(TimeWindow window)
    {
        var custom = !window.Live;
        return new Dictionary<string, object?>
        {
            ["range"] = custom ? Custom : window.RangeKey,
            ["from"] = custom ? FormatInstant(window.From) : null,
            ["to"] = custom ? FormatInstant(window.To) : null,
        };
    }

    /// <summary>"2026-11-28T07:00:00Z": UTC, to the second.</summary>
    public static string FormatInstant(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static bool TryParseInstant(string? text, out DateTimeOffset at) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at);

    /// <summary>How a chart's time axis reads for a window of this length: label spacing and format.</summary>
    public static (TimeSpan Spacing, string Format) AxisLabels(TimeSpan length) =>
        length <= TimeSpan.FromMinutes(20) ? (TimeSpan.FromMinutes(2), "HH:mm")
        : length <= TimeSpan.FromHours(1.5) ? (TimeSpan.FromMinutes(10), "HH:mm")
        : length <= TimeSpan.FromHours(7) ? (TimeSpan.FromHours(1), "HH:mm")
        : length <= TimeSpan.FromDays(1.5) ? (TimeSpan.FromHours(4), "HH:mm")
        : length <= TimeSpan.FromDays(8) ? (TimeSpan.FromDays(1), "MM-dd")
        : (TimeSpan.FromDays(5), "MM-dd");

    /// <summary>"last 15 minutes", "last 7 days", "11-27 08:00 – 11-27 09:00 UTC".</summary>
    public static string Describe(TimeWindow window) => window.RangeKey switch
    {
        "15m" => "last 15 minutes",
        "1h" => "last hour",
        "6h" => "last 6 hours",
        "24h" => "last 24 hours",
        "7d" => "last 7 days",
        "30d" => "last 30 days",
        _ => window.From.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " – "
             + window.To.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC",
    };
}
