namespace Fleet.Agent.Simulation;

/// <summary>
/// SplitMix64: a small, fast generator whose sequence depends only on its seed (unlike System.Random, whose
/// algorithm may change between runtimes), so a simulated fleet is the same for a seed everywhere.
/// </summary>
internal struct SimRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Finish(_state);
    }

    /// <summary>In [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>In [min, maxExclusive).</summary>
    public int Next(int min, int maxExclusive) =>
        maxExclusive <= min ? min : min + (int)(NextUInt64() % (ulong)(maxExclusive - min));

    public double Between(double min, double max) => min + (max - min) * NextDouble();

    public bool Chance(double probability) => NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(0, items.Count)];

    /// <summary>A well-mixed hash of a few numbers, for noise that depends on (host, process, minute) only.</summary>
    public static ulong Hash(ulong a, ulong b, ulong c = 0, ulong d = 0)
    {
        ulong h = Finish(a + 0x9E3779B97F4A7C15UL);
        h = Finish(h ^ (b + 0x632BE59BD9B4E019UL));
        h = Finish(h ^ (c + 0x8CB92BA72F3D8DD7UL));
        return Finish(h ^ (d + 0xD6E8FEB86659FD93UL));
    }

    /// <summary>A value in [-1, 1) from a hash.</summary>
    public static double Signed(ulong hash) => (hash >> 11) * (2.0 / (1UL << 53)) - 1.0;

    private static ulong Finish(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
