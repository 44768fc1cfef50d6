namespace Fleet.Agent.Benchmarks.Procfs;

/// <summary>
/// What is true of one process: its open fds by kind, its TCP sockets by state, its CLOSE_WAIT sockets by
/// remote endpoint and its RLIMIT_NOFILE. Built from /proc by the runner, from a holder's own account,
/// and from the agent's answer, so that the three can be compared.
/// </summary>
internal sealed record ProcessFigures(
    long OpenFds,
    IReadOnlyDictionary<string, long> Fds,
    IReadOnlyDictionary<string, long> Tcp,
    IReadOnlyDictionary<string, long> CloseWaitRemotes,
    long NofileSoft,
    long NofileHard)
{
    /// <summary>Every figure in which <paramref name="actual"/> differs from this, as "name: expected X, got Y".</summary>
    public IReadOnlyList<string> DifferencesFrom(ProcessFigures actual)
    {
        var differences = new List<string>();
        Compare(differences, "open_fds", OpenFds, actual.OpenFds);
        Compare(differences, "fds", Fds, actual.Fds);
        Compare(differences, "tcp", Tcp, actual.Tcp);
        Compare(differences, "close_wait_remotes", CloseWaitRemotes, actual.CloseWaitRemotes);
        Compare(differences, "nofile_soft", NofileSoft, actual.NofileSoft);
        Compare(differences, "nofile_hard", NofileHard, actual.NofileHard);
        return differences;
    }

    private static void Compare(List<string> differences, string name, long expected, long actual)
    {
        if (expected != actual)
        {
            differences.Add($"{name}: expected {expected}, got {actual}");
        }
    }

    private static void Compare(
        List<string> differences, string name, IReadOnlyDictionary<string, long> expected, IReadOnlyDictionary<string, long> actual)
    {
        foreach (string key in expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal))
        {
            Compare(differences, $"{name}.{key}", expected.GetValueOrDefault(key), actual.GetValueOrDefault(key));
        }
    }

    /// <summary>A count table without its zero entries (a missing key and a zero mean the same).</summary>
    public static IReadOnlyDictionary<string, long> NonZero(IEnumerable<KeyValuePair<string, long>> counts) =>
        counts.Where(c => c.Value != 0).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
}
