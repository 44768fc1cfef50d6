using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Dashboard.Benchmarks;

/// <summary>One range of the host page: its server time, the baseline's in the same loop, and what the pages carried.</summary>
internal sealed record RangeTiming(string Range, Stats Page, Stats Query, double? MeanPoints, int MeanKiB);

internal sealed record PageLoadResult(IReadOnlyList<RangeTiming> Ranges, Stats Healthz, Stats ApiHosts);

/// <summary>
/// The host page's server time with the history in the database: GET /hosts/&lt;name&gt;?range=R (the prerendered
/// page, which includes its data load) on random hosts, timed from sending the request to the last byte of the
/// body on loopback; interleaved in the same loop with GET /healthz and GET /api/hosts as baselines, and with
/// <see cref="IDashboardData.HostAsync"/> called directly (query time without rendering) on the server's own
/// service. The client signs in first (<see cref="BenchServer.SignInAsync"/>) and keeps its session.
/// </summary>
internal static partial class PageLoad
{
    public static readonly string[] Ranges = ["7d", "24h", "1h"];

    private const int WarmUp = 3;

    public static async Task<PageLoadResult> RunAsync(BenchServer server, Uri http, IReadOnlyList<string> hostNames, BenchmarkOptions options, TextWriter progress, CancellationToken ct)
    {
        using var client = new HttpClient { BaseAddress = http, Timeout = TimeSpan.FromSeconds(60) };
        // Every page and API route needs a signed-in user: sign in once, the client keeps the session cookie.
        await server.SignInAsync(client, ct);
        var data = server.Services.GetRequiredService<IDashboardData>();
        var random = new Random(options.Seed);
        var pages = Ranges.ToDictionary(r => r, _ => new List<TimeSpan>());
        var queries = Ranges.ToDictionary(r => r, _ => new List<TimeSpan>());
        var points = Ranges.ToDictionary(r => r, _ => new List<double>());
        var bytes = Ranges.ToDictionary(r => r, _ => new List<int>());
        var healthz = new List<TimeSpan>();
        var apiHosts = new List<TimeSpan>();

        progress.WriteLine(Invariant($"pages: {WarmUp} warm-up then {options.Requests} timed rounds; each round: /healthz, /api/hosts, and per range ({string.Join(", ", Ranges)}) the host page and HostAsync on a random host of {hostNames.Count}"));
        var clock = Stopwatch.StartNew();
        for (int round = 0; round < WarmUp + options.Requests; round++)
        {
            bool timed = round >= WarmUp;
            var (healthzTime, _) = await GetAsync(client, "healthz", ct);
            var (apiTime, _) = await GetAsync(client, "api/hosts", ct);
            if (timed)
            {
                healthz.Add(healthzTime);
                apiHosts.Add(apiTime);
            }
            foreach (string range in Ranges)
            {
                string name = hostNames[random.Next(hostNames.Count)];
                var (pageTime, body) = await GetAsync(client, $"hosts/{Uri.EscapeDataString(name)}?range={range}", ct);
                if (!body.Contains(name, StringComparison.Ordinal) || !body.Contains("data-testid=\"host-name\"", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"GET /hosts/{name}?range={range} answered a page without data-testid=\"host-name\" and the host's name");
                }
                var now = DateTimeOffset.UtcNow;
                var window = new TimeWindow(now - Length(range), now, true, range);
                var started = Stopwatch.GetTimestamp();
                var view = await data.HostAsync(name, window, ct) ?? throw new InvalidOperationException($"IDashboardData.HostAsync found no host {name}");
                var queryTime = Stopwatch.GetElapsedTime(started);
                if (timed)
                {
                    pages[range].Add(pageTime);
                    queries[range].Add(queryTime);
                    bytes[range].Add(body.Length);
                    if (ChartPoints(body) is { } n)
                    {
                        points[range].Add(n);
                    }
                }
            }
            if (round == WarmUp - 1 || (timed && (round - WarmUp + 1) % 10 == 0))
            {
                progress.WriteLine(Invariant($"  {(timed ? round - WarmUp + 1 : 0)} / {options.Requests} rounds after {clock.Elapsed.TotalSeconds:0} s"));
            }
        }
        return new PageLoadResult(
            [.. Ranges.Select(r => new RangeTiming(r, Stats.Of(pages[r]), Stats.Of(queries[r]), points[r].Count > 0 ? points[r].Average() : null, (int)(bytes[r].Average() / 1024)))],
            Stats.Of(healthz),
            Stats.Of(apiHosts));
    }

    private static TimeSpan Length(string range) => range switch
    {
        "7d" => TimeSpan.FromDays(7),
        "24h" => TimeSpan.FromHours(24),
        "1h" => TimeSpan.FromHours(1),
        _ => throw new ArgumentOutOfRangeException(nameof(range), range, "not a timed range"),
    };

    /// <summary>A GET timed from sending to the body's last byte; anything but 200 fails the run.</summary>
    private static async Task<(TimeSpan Elapsed, string Body)> GetAsync(HttpClient client, string path, CancellationToken ct)
    {
        long started = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseContentRead, ct);
        string body = await response.Content.ReadAsStringAsync(ct);
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET /{path} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        return (elapsed, body);
    }

    /// <summary>The close-wait chart's data-points in the prerendered page, or null when the page has no such chart.</summary>
    private static int? ChartPoints(string body)
    {
        foreach (Match tag in ChartTag().Matches(body))
        {
            var points = PointsAttribute().Match(tag.Value);
            if (points.Success)
            {
                return int.Parse(points.Groups[1].Value, CultureInfo.InvariantCulture);
            }
        }
        return null;
    }

    [GeneratedRegex("<[^>]*data-testid=\"close-wait-chart\"[^>]*>")]
    private static partial Regex ChartTag();

    [GeneratedRegex("data-points=\"(\\d+)\"")]
    private static partial Regex PointsAttribute();

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
