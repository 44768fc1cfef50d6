using System.Globalization;

namespace Fleet.Agent.Benchmarks;

/// <summary>The runner's command line.</summary>
internal sealed record BenchmarkOptions(string? AgentPath, string? RepoRoot, int Rounds, bool Help)
{
    public const string Usage = """
        usage: dotnet run -c Release --project tests/Fleet.Agent.Benchmarks [-- options]
          --agent PATH   measure this fleet-agent binary instead of publishing agent/ with NativeAOT
          --repo PATH    the checkout holding Fleet.sln (default: found above the working directory)
          --rounds N     repetitions of every measurement (default 5, 3 to 50)
        Exit code: 0 when the report was made (targets met or not), 1 when the agent's figures were not
        exact, 2 when the workload or the agent could not be set up, 64 on a bad command line.
        """;

    public static bool TryParse(string[] args, out BenchmarkOptions options, out string error)
    {
        options = new BenchmarkOptions(null, null, 5, false);
        error = "";
        for (int i = 0; i < args.Length; i++)
        {
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--help" or "-h":
                    options = options with { Help = true };
                    continue;
                case "--agent" when value is not null:
                    options = options with { AgentPath = Path.GetFullPath(value) };
                    break;
                case "--repo" when value is not null:
                    options = options with { RepoRoot = value };
                    break;
                case "--rounds" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int rounds) && rounds is >= 3 and <= 50:
                    options = options with { Rounds = rounds };
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
