using System.Globalization;
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

            // The plain least-squares answer on the same series, so a miss can be told from a series no line gets right.
            var (plain, _) = LeastSquaresBaseline.HoursToLimit(s.Samples, s.SoftLimit, s.Now);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"#{i} {p.Verdict} true={s.TrueHoursToSoft:0.#} pred={p.TimeToSoftLimit?.TotalHours:0.#} ape={Ape(s.TrueHoursToSoft, p.TimeToSoftLimit?.TotalHours)} ols={plain:0.#} olsape={Ape(s.TrueHoursToSoft, plain)} q={p.Quality:0.00} {p.Reason}"));
        }
    }

    private static string Ape(double? truth, double? predicted) =>
        truth is { } t && predicted is { } p ? string.Create(CultureInfo.InvariantCulture, $"{Math.Abs(p - t) / t * 100:0.0}%") : "-";
}
