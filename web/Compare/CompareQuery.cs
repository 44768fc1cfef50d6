using Fleet.Web.Data;
using Fleet.Web.Display;

namespace Fleet.Web.Compare;

/// <summary>How a comparison is asked for in a URL: hosts=a&amp;hosts=b (each value may also be a comma-separated list).</summary>
public static class CompareQuery
{
    /// <summary>The distinct host names of the query's hosts values, in order, without blanks.</summary>
    public static IReadOnlyList<string> Hosts(IEnumerable<string?>? values) =>
        [.. (values ?? []).SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal)];

    /// <summary>The compare page for these hosts (and a service's instances on them), over a window when given.</summary>
    public static string Href(IEnumerable<string> hosts, string? service, TimeWindow? window = null)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var parts = hosts.Select(h => "hosts=" + Uri.EscapeDataString(h)).ToList();
        if (!string.IsNullOrEmpty(service))
        {
            parts.Add("service=" + Uri.EscapeDataString(service));
        }
        if (window is not null)
        {
            parts.AddRange(TimeRanges.ToQuery(window).Where(p => p.Value is not null).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!.ToString()!)}"));
        }
        return "/compare?" + string.Join("&", parts);
    }
}
