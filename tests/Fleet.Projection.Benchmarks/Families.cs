using Fleet.Server.Projection;

namespace Fleet.Projection.Benchmarks;

/// <summary>
/// The generated families. Every series ends at <see cref="Now"/>; the window is 6-24 h (the daily cycle: 24-36 h),
/// sampled every 10 s or every minute. Fds are whole numbers and never negative.
/// </summary>
internal static class Families
{
    public static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    public static IReadOnlyList<Family> All { get; } =
    [
        new("linear leak", true, true, LinearLeak),
        new("leak, heavy + correlated noise", true, true, NoisyLeak),
        new("leak with restarts (saw-tooth)", true, true, SawTooth),
        new("slow leak under large load", true, true, SlowLeakLargeLoad),
        new("step change", false, true, Step),
        new("daily load cycle (24-36 h)", false, true, r => DailyCycle(r, 24, 36)),
        new("flat with spikes", false, true, FlatWithSpikes),
        new("leak stopped hours ago", false, true, StoppedLeak),
        new("daily cycle ramp (6-24 h)", false, false, r => DailyCycle(r, 6, 24)),
        // Added last so that the families above keep their random streams (seed + 1000 × index) and their figures.
        new("slow leak under bursty load", true, true, SlowLeakBurstyLoad),
    ];

    private static GeneratedSeries LinearLeak(Random r)
    {
        var window = U(r, 6, 24);
        var baseFds = U(r, 50, 2000);
        var slope = U(r, 5, 200);
        var white = baseFds * U(r, 0.005, 0.03) + 1;
        var times = Times(r, window);
        var fds = times.Select(t => baseFds + slope * t + white * Gauss(r)).ToArray();
        return WithLeakLimits(r, times, fds, null, baseFds + slope * window, slope, 6, 14 * 24);
    }

    private static GeneratedSeries NoisyLeak(Random r)
    {
        var window = U(r, 8, 24);
        var slope = U(r, 10, 200);
        var rise = slope * window;
        var times = Times(r, window);
        var whiteSd = U(r, 0.1, 0.4) * rise;
        var arSd = U(r, 0.05, 0.2) * rise;
        var walkSd = U(r, 0, 0.1) * rise;
        var white = Noise.White(r, times.Length, whiteSd);
        var ar = Noise.Ar1(r, times, arSd, TimeSpan.FromMinutes(U(r, 10, 180)));
        var walk = Noise.RandomWalk(r, times.Length, walkSd);
        // The level sits well above the noise, so that the noise does not clip at zero fds.
        var baseFds = U(r, 100, 2000) + (3 * (whiteSd + arSd + walkSd));
        var fds = times.Select((t, i) => baseFds + slope * t + white[i] + ar[i] + walk[i]).ToArray();
        return WithLeakLimits(r, times, fds, null, baseFds + slope * window, slope, 6, 14 * 24);
    }

    private static GeneratedSeries SawTooth(Random r)
    {
        var window = U(r, 12, 24);
        var baseFds = U(r, 50, 500);
        var slope = U(r, 20, 200);
        var period = U(r, 2, 6);
        var white = baseFds * U(r, 0.01, 0.03) + 1;
        var withStartTimes = r.NextDouble() < 0.5;
        var times = Times(r, window);
        var starts = new List<double> { -U(r, 0, period) };
        while (starts[^1] + (period * 0.8) < window)
        {
            starts.Add(starts[^1] + (period * U(r, 0.8, 1.2)));
        }

        if (starts[^1] > window)
        {
            starts.RemoveAt(starts.Count - 1);
        }

        var fds = new double[times.Length];
        var processStarts = new double[times.Length];
        var run = 0;
        for (var i = 0; i < times.Length; i++)
        {
            while (run + 1 < starts.Count && starts[run + 1] <= times[i])
            {
                run++;
            }

            fds[i] = baseFds + slope * (times[i] - starts[run]) + white * Gauss(r);
            processStarts[i] = starts[run];
        }

        return WithLeakLimits(r, times, fds, withStartTimes ? processStarts : null,
            baseFds + slope * (window - starts[^1]), slope, 1, 3 * 24);
    }

    private static GeneratedSeries SlowLeakLargeLoad(Random r)
    {
        var window = U(r, 12, 24);
        var baseFds = U(r, 5000, 20000);
        var slope = U(r, 5, 40);
        var times = Times(r, window);
        var white = Noise.White(r, times.Length, U(r, 0.2, 1) * Math.Sqrt(baseFds));
        var load = Noise.Ar1(r, times, U(r, 0.2, 1) * Math.Sqrt(baseFds), TimeSpan.FromMinutes(30));
        var fds = times.Select((t, i) => baseFds + slope * t + white[i] + load[i]).ToArray();
        return WithLeakLimits(r, times, fds, null, baseFds + slope * window, slope, 24, 60 * 24);
    }

    /// <summary>
    /// The slow leak of <see cref="SlowLeakLargeLoad"/>, but the load of a large steady service as it is seen on
    /// real hosts: the steady level plus short connection bursts (retry storms, batch jobs, reconnects after a
    /// failover) that only ever add fds, arrive at random (1-6 an hour), last minutes (exponential, mean 1-5 min: busy under a third of the time)
    /// and have heavy-tailed sizes (Pareto, shape 1.5, from 0.5-3% of the level, capped at half of it), overlapping
    /// when they come close. The truth is the steady level's line: the bursts come and go.
    /// </summary>
    private static GeneratedSeries SlowLeakBurstyLoad(Random r)
    {
        var window = U(r, 12, 24);
        var baseFds = U(r, 5000, 20000);
        var slope = U(r, 5, 40);
        var times = Times(r, window);
        var white = Noise.White(r, times.Length, U(r, 0.2, 1) * Math.Sqrt(baseFds));
        var load = Noise.Bursts(r, times, U(r, 1, 6), TimeSpan.FromMinutes(U(r, 1, 5)), baseFds * U(r, 0.005, 0.03), baseFds * 0.5);
        var fds = times.Select((t, i) => baseFds + slope * t + white[i] + load[i]).ToArray();
        return WithLeakLimits(r, times, fds, null, baseFds + slope * window, slope, 24, 60 * 24);
    }

    private static GeneratedSeries Step(Random r)
    {
        var window = U(r, 6, 24);
        var baseFds = U(r, 50, 2000);
        var at = window * U(r, 0.1, 0.9);
        var step = Math.Max(20, baseFds * U(r, 0.1, 1.0));
        var white = baseFds * U(r, 0.005, 0.03) + 1;
        var times = Times(r, window);
        var fds = times.Select(t => baseFds + (t >= at ? step : 0) + white * Gauss(r)).ToArray();
        return WithoutLeak(r, times, fds, baseFds + step);
    }

    private static GeneratedSeries DailyCycle(Random r, double minWindow, double maxWindow)
    {
        var window = U(r, minWindow, maxWindow);
        var baseFds = U(r, 200, 2000);
        var amplitude = baseFds * U(r, 0.2, 0.6);
        var phase = U(r, 0, 2 * Math.PI);
        var times = Times(r, window);
        var white = Noise.White(r, times.Length, baseFds * 0.02);
        var load = Noise.Ar1(r, times, baseFds * 0.05, TimeSpan.FromMinutes(30));
        var fds = times.Select((t, i) => baseFds + amplitude * Math.Sin(phase + (2 * Math.PI * t / 24)) + white[i] + load[i]).ToArray();
        return WithoutLeak(r, times, fds, baseFds + amplitude);
    }

    private static GeneratedSeries FlatWithSpikes(Random r)
    {
        var window = U(r, 6, 24);
        var baseFds = U(r, 50, 2000);
        var white = baseFds * 0.01 + 1;
        var times = Times(r, window);
        var dt = times[1] - times[0];
        var burstsPerHour = U(r, 1, 6);
        var fds = new double[times.Length];
        var burstLeft = 0;
        var burstLevel = 0.0;
        for (var i = 0; i < times.Length; i++)
        {
            if (burstLeft == 0 && r.NextDouble() < burstsPerHour * dt)
            {
                burstLeft = Math.Max(1, (int)(U(r, 10, 180) / 3600 / dt));
                burstLevel = r.NextDouble() < 0.8 ? baseFds * U(r, 1.5, 4) : baseFds * U(r, 0.1, 0.5);
            }

            fds[i] = burstLeft > 0 ? burstLevel : baseFds + white * Gauss(r);
            burstLeft = Math.Max(0, burstLeft - 1);
        }

        return WithoutLeak(r, times, fds, baseFds * 4);
    }

    private static GeneratedSeries StoppedLeak(Random r)
    {
        var window = U(r, 8, 24);
        var baseFds = U(r, 50, 2000);
        var slope = U(r, 10, 200);
        var stoppedFor = U(r, window / 4, window / 2);
        var stop = window - stoppedFor;
        var white = baseFds * U(r, 0.005, 0.03) + 1;
        var times = Times(r, window);
        var ar = Noise.Ar1(r, times, baseFds * 0.01, TimeSpan.FromMinutes(30));
        var fds = times.Select((t, i) => baseFds + slope * Math.Min(t, stop) + white * Gauss(r) + ar[i]).ToArray();
        return WithoutLeak(r, times, fds, baseFds + slope * stop);
    }

    /// <summary>Sample times in hours from the window's start; the last one is at the window's end (now).</summary>
    private static double[] Times(Random r, double windowHours)
    {
        var stepHours = (r.NextDouble() < 0.5 ? 10.0 : 60.0) / 3600;
        var n = (int)(windowHours / stepHours) + 1;
        var start = windowHours - ((n - 1) * stepHours);
        return Enumerable.Range(0, n).Select(i => start + (i * stepHours)).ToArray();
    }

    /// <summary>A leaking series: the soft limit is where the true line is after a random time of minHours..maxHours.</summary>
    private static GeneratedSeries WithLeakLimits(
        Random r, double[] times, double[] fds, double[]? processStarts, double trueLevelNow, double slope, double minHours, double maxHours)
    {
        var soft = (long)Math.Round(trueLevelNow + (slope * U(r, minHours, maxHours)));
        return new(ToSamples(times, fds, processStarts), soft, soft * 2, Now, (soft - trueLevelNow) / slope);
    }

    private static GeneratedSeries WithoutLeak(Random r, double[] times, double[] fds, double peak)
    {
        var soft = (long)Math.Round(peak * U(r, 1.5, 4)) + 64;
        return new(ToSamples(times, fds, null), soft, soft * 2, Now, null);
    }

    private static FdSample[] ToSamples(double[] times, double[] fds, double[]? processStarts)
    {
        var windowEnd = times[^1];
        var samples = new FdSample[times.Length];
        for (var i = 0; i < times.Length; i++)
        {
            var at = Now - TimeSpan.FromHours(windowEnd - times[i]);
            DateTimeOffset? started = processStarts is null ? null : Now - TimeSpan.FromHours(windowEnd - processStarts[i]);
            samples[i] = new FdSample(at, (long)Math.Max(0, Math.Round(fds[i])), started);
        }

        return samples;
    }

    private static double U(Random r, double min, double max) => min + (r.NextDouble() * (max - min));

    internal static double Gauss(Random r) =>
        Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}

/// <summary>Noise components: white, AR(1) (correlated over a time constant) and a random walk.</summary>
internal static class Noise
{
    public static double[] White(Random r, int n, double sd)
    {
        var e = new double[n];
        for (var i = 0; i < n; i++)
        {
            e[i] = sd * Families.Gauss(r);
        }

        return e;
    }

    /// <summary>Stationary AR(1) with standard deviation <paramref name="sd"/> and correlation time <paramref name="tau"/>.</summary>
    public static double[] Ar1(Random r, double[] timesHours, double sd, TimeSpan tau)
    {
        var e = new double[timesHours.Length];
        e[0] = sd * Families.Gauss(r);
        for (var i = 1; i < e.Length; i++)
        {
            var phi = Math.Exp(-(timesHours[i] - timesHours[i - 1]) / tau.TotalHours);
            e[i] = (phi * e[i - 1]) + (Math.Sqrt(1 - (phi * phi)) * sd * Families.Gauss(r));
        }

        return e;
    }

    /// <summary>
    /// Positive bursts: arrivals at <paramref name="perHour"/> (Poisson), each lasting an exponential time of mean
    /// <paramref name="meanLength"/> with a Pareto (shape 1.5) height from <paramref name="minHeight"/>, capped at
    /// <paramref name="maxHeight"/>; overlapping bursts add up.
    /// </summary>
    public static double[] Bursts(Random r, double[] timesHours, double perHour, TimeSpan meanLength, double minHeight, double maxHeight)
    {
        var e = new double[timesHours.Length];
        var start = timesHours[0];
        var end = timesHours[^1];
        var at = start - meanLength.TotalHours * 3;
        for (var k = 0; k < 100_000; k++)
        {
            at += -Math.Log(1 - r.NextDouble()) / perHour;
            if (at > end)
            {
                break;
            }

            var length = -Math.Log(1 - r.NextDouble()) * meanLength.TotalHours;
            var height = Math.Min(maxHeight, minHeight / Math.Pow(1 - r.NextDouble(), 1 / 1.5));
            for (var i = 0; i < timesHours.Length; i++)
            {
                if (timesHours[i] >= at && timesHours[i] < at + length)
                {
                    e[i] += height;
                }
            }
        }

        return e;
    }

    /// <summary>A random walk whose standard deviation at the end of the window is <paramref name="endSd"/>.</summary>
    public static double[] RandomWalk(Random r, int n, double endSd)
    {
        var e = new double[n];
        var step = endSd / Math.Sqrt(n);
        for (var i = 1; i < n; i++)
        {
            e[i] = e[i - 1] + (step * Families.Gauss(r));
        }

        return e;
    }
}
