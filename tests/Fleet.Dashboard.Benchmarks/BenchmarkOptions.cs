using System.Globalization;

namespace Fleet.Dashboard.Benchmarks;

/// <summary>The runner's command line.</summary>
internal sealed record BenchmarkOptions
{
    public const string Usage = """
        usage: dotnet run -c Release --project tests/Fleet.Dashboard.Benchmarks [-- options]
          --hosts N              simulated hosts with history (default 50, 1 to 2000)
          --days N               days of 10 s history per host, ending now (default 7, 1 to 13)
          --keep-database DIR    keep the PostgreSQL cluster in DIR/postgres and reuse its history on the next run
                                 (only the time since the last run is generated then); DIR must be reachable by the
                                 postgres user (not under /root). Default: a new cluster in /tmp, removed at the end
          --seed N               the simulated fleet's seed (default 1)
          --live-snapshots N     timed live snapshots after the warm-up (default 150, at least 20)
          --live-warmup N        live snapshots sent before timing (default 15)
          --interval-ms A-B      pause between live snapshots, uniform in [A, B] ms (default 300-500)
          --requests N           timed page requests per range (default 30, at least 5)
          --skip-live            skip the live latency measurement
          --skip-pages           skip the page load measurement (and the history generation)
        Exit code: 0 when the report was made (targets met or not), 2 when the cluster, the server, the browser
        or a measurement failed, 64 on a bad command line.
        """;

    public int Hosts { get; init; } = 50;

    public int Days { get; init; } = 7;

    public string? KeepDatabase { get; init; }

    public int Seed { get; init; } = 1;

    public int LiveSnapshots { get; init; } = 150;

    public int LiveWarmup { get; init; } = 15;

    public int IntervalMinMs { get; init; } = 300;

    public int IntervalMaxMs { get; init; } = 500;

    public int Requests { get; init; } = 30;

    public bool SkipLive { get; init; }

    public bool SkipPages { get; init; }

    public bool Help { get; init; }

    public static bool TryParse(string[] args, out BenchmarkOptions options, out string error)
    {
        options = new BenchmarkOptions();
        error = "";
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--help" or "-h":
                    options = options with { Help = true };
                    continue;
                case "--skip-live":
                    options = options with { SkipLive = true };
                    continue;
                case "--skip-pages":
                    options = options with { SkipPages = true };
                    continue;
            }
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            bool ok = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n);
            switch (args[i])
            {
                case "--hosts" when ok && n is >= 1 and <= 2000:
                    options = options with { Hosts = n };
                    break;
                case "--days" when ok && n is >= 1 and <= 13:
                    options = options with { Days = n };
                    break;
                case "--keep-database" when !string.IsNullOrWhiteSpace(value):
                    options = options with { KeepDatabase = Path.GetFullPath(value) };
                    break;
                case "--seed" when ok:
                    options = options with { Seed = n };
                    break;
                case "--live-snapshots" when ok && n is >= 20 and <= 100_000:
                    options = options with { LiveSnapshots = n };
                    break;
                case "--live-warmup" when ok && n is >= 1 and <= 10_000:
                    options = options with { LiveWarmup = n };
                    break;
                case "--interval-ms" when TryRange(value, out int min, out int max):
                    options = options with { IntervalMinMs = min, IntervalMaxMs = max };
                    break;
                case "--requests" when ok && n is >= 5 and <= 100_000:
                    options = options with { Requests = n };
                    break;
                default:
                    error = $"bad argument '{args[i]}'{(value is null ? "" : $" '{value}'")}";
                    return false;
            }
            i++;
        }
        return true;
    }

    private static bool TryRange(string? value, out int min, out int max)
    {
        min = max = 0;
        string[] parts = (value ?? "").Split('-');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out min)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out max)
            && min >= 10 && max >= min && max <= 60_000;
    }
}
