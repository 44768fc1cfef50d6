using System.Globalization;
using Fleet.Web.Data;

namespace Fleet.Web.Components.Snapshots;

/// <summary>How snapshots read on the pages: default titles, windows, what they froze, their links.</summary>
public static class SnapshotTexts
{
    /// <summary>"Incident on web-1, 28 Nov 14:02 UTC" (the window's end): a title the user may keep or change.</summary>
    public static string DefaultTitle(SnapshotOrigin origin, IReadOnlyList<string> hosts, string? service, TimeWindow window)
    {
        var subject = origin switch
        {
            SnapshotOrigin.Service when service is not null => $"service {service}",
            _ when service is not null && hosts.Count > 1 => $"{service} on {HostList(hosts)}",
            _ => HostList(hosts),
        };
        var at = window.To.UtcDateTime.ToString("d MMM HH:mm", CultureInfo.InvariantCulture);
        var title = $"Incident on {subject}, {at} UTC";
        return title.Length <= SnapshotRequest.MaxTitleLength ? title : $"Incident, {at} UTC";
    }

    /// <summary>"web-1, web-2 and 3 more".</summary>
    public static string HostList(IReadOnlyList<string> hosts, int shown = 3) =>
        hosts.Count == 0 ? "no host"
        : hosts.Count <= shown ? string.Join(", ", hosts)
        : $"{string.Join(", ", hosts.Take(shown))} and {hosts.Count - shown} more";

    /// <summary>"2026-11-28 13:02:00 – 14:02:00 UTC" (the end's date only when it differs).</summary>
    public static string Window(DateTimeOffset from, DateTimeOffset to)
    {
        var f = from.UtcDateTime;
        var t = to.UtcDateTime;
        var end = f.Date == t.Date ? t.ToString("HH:mm:ss", CultureInfo.InvariantCulture) : t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        return $"{f.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} – {end} UTC";
    }

    public static string Origin(SnapshotOrigin origin) => origin switch
    {
        SnapshotOrigin.Host => "host page",
        SnapshotOrigin.Service => "service page",
        SnapshotOrigin.Compare => "comparison",
        _ => origin.ToString(),
    };

    public static string Href(long id) => $"/snapshots/{id.ToString(CultureInfo.InvariantCulture)}";

    public static string HostHref(long id, string host) => $"{Href(id)}/hosts/{Uri.EscapeDataString(host)}";

    public static string ServiceHref(long id, string service) => $"{Href(id)}/services/{Uri.EscapeDataString(service)}";

    public static string CompareHref(long id) => $"{Href(id)}/compare";

    public static string ArchiveHref(long id) => $"/api/snapshots/{id.ToString(CultureInfo.InvariantCulture)}/archive";

    /// <summary>The archive's file name offered to the browser: "fleet-snapshot-12.zip".</summary>
    public static string ArchiveFileName(long id) => $"fleet-snapshot-{id.ToString(CultureInfo.InvariantCulture)}.zip";
}
