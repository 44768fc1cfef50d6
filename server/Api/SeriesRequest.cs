using System.Globalization;

namespace Fleet.Server.Api;

/// <summary>
/// Reads the query of <c>GET /api/hosts/{name}/series</c>: from/to as ISO-8601 or relative to now ("-1h",
/// "-30m", "-7d", "now"), default the last hour; step as "10s", "1m", "1h" (default: about 300 points).
/// Every bad parameter gives a message naming it.
/// </summary>
public static class SeriesRequest
{
    public const int TargetPoints = 300;
    public const int MaxPoints = 10_000;

    public static TimeSpan DefaultRange { get; } = TimeSpan.FromHours(1);

    public static TimeSpan MinStep { get; } = TimeSpan.FromSeconds(1);

    public static TimeSpan MaxRange { get; } = TimeSpan.FromDays(400);

    private static readonly TimeSpan[] NiceSteps =
    [
        TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30),
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2),
        TimeSpan.FromHours(3), TimeSpan.FromHours(6), TimeSpan.FromHours(12), TimeSpan.FromDays(1),
    ];

    /// <summary>The query, or the problems (parameter name → message) when there are any.</summary>
    public static (SeriesQuery? Query, Dictionary<string, string[]> Problems) Parse(
        string host, string? metric, string? service, string? from, string? to, string? step, DateTimeOffset now)
    {
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(metric))
        {
            problems["metric"] = [$"required: one of {SeriesMetrics.AllowedList}"];
        }
        else if (!SeriesMetrics.All.TryGetValue(metric, out bool perService))
        {
            problems["metric"] = [$"unknown metric '{Shorten(metric)}': allowed are {SeriesMetrics.AllowedList}"];
        }
        else if (!string.IsNullOrEmpty(service) && !perService)
        {
            problems["service"] = [$"metric '{metric}' is a host metric: leave service out, or use one of {string.Join(", ", SeriesMetrics.All.Where(m => m.Value).Select(m => m.Key))}"];
        }
        if (service is { Length: > 256 })
        {
            problems["service"] = ["at most 256 characters"];
        }

        DateTimeOffset? toTime = ParseTime(to, now, "to", problems) ?? (to is null ? now : null);
        DateTimeOffset? fromTime = ParseTime(from, now, "from", problems) ?? (from is null && toTime is { } t ? t - DefaultRange : null);
        if (fromTime is { } f && toTime is { } e)
        {
            if (f >= e)
            {
                problems["from"] = [$"must be before to ({f:O} is not before {e:O})"];
            }
            else if (e - f > MaxRange)
            {
                problems["from"] = [$"the range is at most {MaxRange.TotalDays:0} days"];
            }
        }

        TimeSpan? stepValue = null;
        if (step is not null)
        {
            if (ParseDuration(step) is { } parsed && parsed >= MinStep)
            {
                stepValue = parsed;
            }
            else
            {
                problems["step"] = [$"'{Shorten(step)}' is not a step: use a number and a unit, such as 10s, 1m, 1h or 1d (at least 1s)"];
            }
        }

        if (problems.Count > 0 || fromTime is not { } from2 || toTime is not { } to2)
        {
            return (null, problems);
        }
        var range = to2 - from2;
        stepValue ??= DefaultStep(range);
        if (range / stepValue.Value > MaxPoints)
        {
            problems["step"] = [$"{Format(stepValue.Value)} gives more than {MaxPoints} points over {Format(range)}: choose at least {Format(range / MaxPoints)}"];
            return (null, problems);
        }
        return (new SeriesQuery(host, metric!, string.IsNullOrEmpty(service) ? null : service, from2, to2, stepValue.Value), problems);
    }

    /// <summary>The smallest round step that gives at most about <see cref="TargetPoints"/> points.</summary>
    public static TimeSpan DefaultStep(TimeSpan range)
    {
        var wanted = range / TargetPoints;
        foreach (var nice in NiceSteps)
        {
            if (nice >= wanted)
            {
                return nice;
            }
        }
        return TimeSpan.FromDays(Math.Ceiling(wanted.TotalDays));
    }

    /// <summary>An ISO-8601 or relative ("-1h", "now") time; null with the problem under <paramref name="name"/> when it is neither, or when absent.</summary>
    internal static DateTimeOffset? ParseTime(string? text, DateTimeOffset now, string name, Dictionary<string, string[]> problems)
    {
        if (text is null)
        {
            return null;
        }
        string t = text.Trim();
        if (t.Equals("now", StringComparison.OrdinalIgnoreCase))
        {
            return now;
        }
        if (t.StartsWith('-') && ParseDuration(t[1..]) is { } ago)
        {
            return now - ago;
        }
        if (DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            && t.Length >= 10 && char.IsAsciiDigit(t[0]))
        {
            return at;
        }
        problems[name] = [$"'{Shorten(text)}' is not a time: use ISO-8601 (2025-01-31T12:00:00Z) or relative to now (-1h, -30m, -7d, now)"];
        return null;
    }

    /// <summary>"10s", "5m", "1h", "7d", "1w"; null when it is not one.</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        string t = text.Trim();
        if (t.Length < 2)
        {
            return null;
        }
        double unit = char.ToLowerInvariant(t[^1]) switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => 0,
        };
        if (unit == 0 || !double.TryParse(t.AsSpan(0, t.Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n)
            || !double.IsFinite(n) || n <= 0 || n * unit > MaxRange.TotalSeconds)
        {
            return null;
        }
        return TimeSpan.FromSeconds(n * unit);
    }

    private static string Format(TimeSpan span) =>
        span.TotalDays >= 1 && span.TotalDays == Math.Floor(span.TotalDays) ? $"{span.TotalDays:0}d"
        : span.TotalHours >= 1 && span.TotalHours == Math.Floor(span.TotalHours) ? $"{span.TotalHours:0}h"
        : span.TotalMinutes >= 1 && span.TotalMinutes == Math.Floor(span.TotalMinutes) ? $"{span.TotalMinutes:0}m"
        : $"{Math.Ceiling(span.TotalSeconds):0}s";

    internal static string Shorten(string text) => Ingest.SnapshotValidator.Shorten(text, 40);
}
