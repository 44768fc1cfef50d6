using Fleet.Server.Projection;

namespace Fleet.Projection.Benchmarks;

/// <summary>Prints the series of one family where Fleet's answer is of the wrong kind, with the projector's reason.</summary>
internal static class Diagnose
{
    public static void Run(string familyName, int count, int seed, ProjectionOptions options)
    {
        var family = Families.All.First(f => f.Name.StartsWith(familyName, StringComparison.Ordinal));
        var random = new Random(seed);
        var all = Environment.GetEnvironmentVariable("FLEET_DIAGNOSE_ALL") == "1";
        for (var i = 0; i < count; i++)
        {
            var s = family.Generate(random);
            var p = LeakProjector.Project(s.Samples, s.SoftLimit, s.HardLimit, s.Now, options);
            if (!all && (p.TimeToSoftLimit is not null) == (s.TrueHoursToSoft is not null))
            {
                continue;
            }

            Console.WriteLine($"{p.Verdict} true={s.TrueHoursToSoft:0.#} pred={p.TimeToSoftLimit?.TotalHours:0.#} q={p.Quality:0.00} {p.Reason}");
        }
    }
}
