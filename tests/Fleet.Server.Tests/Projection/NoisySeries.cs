using Fleet.Server.Projection;

namespace Fleet.Server.Tests.Projection;

/// <summary>Readings for the projector's statistical tests: 16 h, one a minute, a line plus three kinds of noise.</summary>
internal static class NoisySeries
{
    public static readonly DateTimeOffset Start = new(2026, 11, 27, 0, 0, 0, TimeSpan.Zero);

    /// <summary>16 h of readings every minute: the line plus white noise, an AR(1) and a random walk (its sd per minute).</summary>
    public static FdSample[] Make(int seed, Func<double, double> line, double white, double arSd, double arMinutes, double walkSd)
    {
        var noise = new Random(seed);
        var phi = Math.Exp(-1.0 / arMinutes);
        double ar = 0, walk = 0;
        var samples = new FdSample[(16 * 60) + 1];
        for (var m = 0; m < samples.Length; m++)
        {
            walk += walkSd * Gauss(noise);
            ar = (phi * ar) + (arSd * Math.Sqrt(1 - (phi * phi)) * Gauss(noise));
            samples[m] = new FdSample(Start.AddMinutes(m), (long)Math.Round(line(m / 60.0) + ar + walk + (white * Gauss(noise))));
        }

        return samples;
    }

    private static double Gauss(Random r) =>
        Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
