using System.Globalization;

namespace Fleet.Server.Benchmarks;

/// <summary>The runner's command line.</summary>
internal sealed record BenchmarkOptions
{
    public const string Usage = """
        usage: dotnet run -c Release --project tests/Fleet.Server.Benchmarks [-- options]
          --agents N       simulated agents, one host each (default 200, 1 to 5000)
          --snapshots N    snapshots per path over all rounds, spread evenly over the agents (default 3000)
          --rounds N       rounds; each times ingest, then a raw COPY of the same rows (default 3, 1 to 50)
          --batch N        snapshots per storage transaction, ingest and raw COPY alike (default 64)
          --window-ms N    how long the batcher waits for more after a batch's first snapshot (default 20)
          --in-flight N    snapshots each agent's stream submits ahead of its acknowledgements (default 8)
          --seed N         the simulated fleet's seed (default 1)
        Exit code: 0 when the report was made (targets met or not), 2 when the cluster, the databases or a
        measurement failed, 64 on a bad command line.
        """;

    public int Agents { get; init; } = 200;

    public int Snapshots { get; init; } = 3000;

    public int Rounds { get; init; } = 3;

    public int BatchSize { get; init; } = 64;

    public int WindowMilliseconds { get; init; } = 20;

    public int InFlight { get; init; } = 8;

    public int Seed { get; init; } = 1;

    public bool Help { get; init; }

    /// <summary>Snapshots each agent sends in one round (at least one).</summary>
    public int PerAgentPerRound => Math.Max(1, Snapshots / Rounds / Agents);

    public static bool TryParse(string[] args, out BenchmarkOptions options, out string error)
    {
        options = new BenchmarkOptions();
        error = "";
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--help" or "-h")
            {
                options = options with { Help = true };
                continue;
            }
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            bool ok = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n);
            switch (args[i])
            {
                case "--agents" when ok && n is >= 1 and <= 5000:
                    options = options with { Agents = n };
                    break;
                case "--snapshots" when ok && n is >= 1 and <= 1_000_000:
                    options = options with { Snapshots = n };
                    break;
                case "--rounds" when ok && n is >= 1 and <= 50:
                    options = options with { Rounds = n };
                    break;
                case "--batch" when ok && n is >= 1 and <= 4096:
                    options = options with { BatchSize = n };
                    break;
                case "--window-ms" when ok && n is >= 0 and <= 1000:
                    options = options with { WindowMilliseconds = n };
                    break;
                case "--in-flight" when ok && n is >= 1 and <= 1024:
                    options = options with { InFlight = n };
                    break;
                case "--seed" when ok:
                    options = options with { Seed = n };
                    break;
                default:
                    error = $"bad argument '{args[i]}'{(value is null ? "" : $" '{value}'")}";
                    return false;
            }
            i++;
        }
        return true;
    }
}
