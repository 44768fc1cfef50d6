using System.Text.Json;
using System.Text.Json.Serialization;
using Fleet.Server.Dashboard;
using Fleet.Web.Compare;
using Fleet.Web.Data;
using Fleet.Web.Display;
using Microsoft.AspNetCore.Mvc;

namespace Fleet.Server.Api;

/// <summary>
/// GET /api/compare?hosts=a,b&amp;service=&amp;range=1h (or from/to, as the series routes take them): the comparison the
/// compare page shows, as JSON; GET /api/drift: the fleet's drift. Bad input gets 400 with every problem under its
/// parameter; hosts none of which has sent a snapshot get 404. Enums travel as their names.
/// </summary>
public static class CompareApi
{
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static IEndpointRouteBuilder MapCompareApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api").RequireAuthorization(FleetPolicies.View);

        api.MapGet("/compare", async (
            [FromQuery] string[]? hosts,
            [FromQuery] string? service,
            [FromQuery] string? range,
            [FromQuery] string? from,
            [FromQuery] string? to,
            IDashboardData data,
            TimeProvider time,
            CancellationToken ct) =>
        {
            var (request, problems) = CompareRequest.Parse(hosts, service, range, from, to, time.GetUtcNow());
            if (request is null)
            {
                return Results.ValidationProblem(problems, title: "Bad compare parameters",
                    detail: string.Join("; ", problems.Select(p => $"{p.Key}: {string.Join(", ", p.Value)}")));
            }
            var views = await Task.WhenAll(request.Hosts.Select(h => data.HostAsync(h, request.Window, ct)));
            var found = views.OfType<HostView>().ToList();
            var unknown = request.Hosts.Where((_, i) => views[i] is null).ToList();
            if (found.Count == 0)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown hosts",
                    detail: $"hosts: none of {string.Join(", ", unknown.Select(h => $"'{Ingest.SnapshotValidator.Shorten(h, 60)}'"))} has sent a snapshot (GET /api/hosts lists the known ones)");
            }
            return Results.Json(Comparison.Of(found, request.Service, request.Window, unknown), Json);
        });

        api.MapGet("/drift", async (IDriftData drift, CancellationToken ct) =>
            Results.Json(await drift.DriftAsync(ct), Json));

        return endpoints;
    }
}

/// <summary>A comparison asked for: two to <see cref="SnapshotRequest.MaxHosts"/> hosts, an optional service, a window.</summary>
public sealed record CompareRequest(IReadOnlyList<string> Hosts, string? Service, TimeWindow Window)
{
    /// <summary>
    /// Reads the query: hosts (repeated or comma-separated), service, and either range (15m, 1h, 6h, 24h, 7d, 30d;
    /// the default is the last hour) or from/to as ISO-8601 or relative to now ("-1h", "now"), with range=custom or
    /// without range. Every bad parameter gives a message naming it.
    /// </summary>
    public static (CompareRequest? Request, Dictionary<string, string[]> Problems) Parse(
        IEnumerable<string?>? hosts, string? service, string? range, string? from, string? to, DateTimeOffset now)
    {
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var names = CompareQuery.Hosts(hosts);
        if (names.Count < 2)
        {
            problems["hosts"] = [names.Count == 0 ? "required: two or more host names (hosts=a,b or hosts=a&hosts=b)" : "at least two hosts to compare"];
        }
        else if (names.Count > SnapshotRequest.MaxHosts)
        {
            problems["hosts"] = [$"at most {SnapshotRequest.MaxHosts} hosts ({names.Count} given)"];
        }
        else if (names.Any(n => n.Length > PostgresDashboardData.MaxNameLength))
        {
            problems["hosts"] = [$"a host name is at most {PostgresDashboardData.MaxNameLength} characters"];
        }
        service = string.IsNullOrWhiteSpace(service) ? null : service.Trim();
        if (service is { Length: > PostgresDashboardData.MaxNameLength })
        {
            problems["service"] = [$"at most {PostgresDashboardData.MaxNameLength} characters"];
        }

        TimeWindow? window = null;
        bool custom = string.Equals(range, TimeRanges.Custom, StringComparison.OrdinalIgnoreCase);
        bool absolute = from is not null || to is not null;
        if (!string.IsNullOrWhiteSpace(range) && !custom)
        {
            var relative = TimeRanges.Relative.FirstOrDefault(r => string.Equals(r.Key, range, StringComparison.OrdinalIgnoreCase));
            if (relative.Key is null)
            {
                problems["range"] = [$"unknown range '{SeriesRequest.Shorten(range)}': one of {string.Join(", ", TimeRanges.Relative.Select(r => r.Key))}, or custom with from and to"];
            }
            else if (absolute)
            {
                problems["range"] = [$"range={relative.Key} ends now: leave from and to out, or use range=custom with them"];
            }
            else
            {
                window = new TimeWindow(now - relative.Length, now, Live: true, relative.Key);
            }
        }
        else if (absolute || custom)
        {
            var end = SeriesRequest.ParseTime(to, now, "to", problems) ?? (to is null ? now : null);
            var start = SeriesRequest.ParseTime(from, now, "from", problems) ?? (from is null && end is { } e ? e - SeriesRequest.DefaultRange : null);
            if (custom && (from is null || to is null))
            {
                problems[from is null ? "from" : "to"] = ["required with range=custom"];
            }
            else if (start is { } f && end is { } t)
            {
                if (f >= t)
                {
                    problems["from"] = [$"must be before to ({f:O} is not before {t:O})"];
                }
                else if (t - f > SeriesRequest.MaxRange)
                {
                    problems["from"] = [$"the range is at most {SeriesRequest.MaxRange.TotalDays:0} days"];
                }
                else
                {
                    window = new TimeWindow(f, t, Live: false, TimeRanges.Custom);
                }
            }
        }
        else
        {
            window = new TimeWindow(now - SeriesRequest.DefaultRange, now, Live: true, TimeRanges.DefaultKey);
        }

        return problems.Count > 0 || window is null ? (null, problems) : (new CompareRequest(names, service, window), problems);
    }
}
