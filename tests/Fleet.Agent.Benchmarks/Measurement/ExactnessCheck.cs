using Fleet.Agent.Benchmarks.Procfs;

namespace Fleet.Agent.Benchmarks.Measurement;

/// <summary>
/// Checks the agent's figures for a changed holder against the runner's own reading of /proc, which in
/// turn must agree with what the holder says it holds. Speed is worth nothing if these differ.
/// </summary>
internal sealed class ExactnessCheck
{
    private readonly List<string> _failures = [];

    public int Compared { get; private set; }

    public int Exact { get; private set; }

    public IReadOnlyList<string> Failures => _failures;

    public bool Passed => Compared > 0 && _failures.Count == 0;

    public void Check(string context, ProcessFigures fromProc, ProcessFigures ownAccount, ProcessFigures? fromAgent)
    {
        Compared++;
        var problems = ownAccount.DifferencesFrom(fromProc).Select(d => $"/proc against the holder's account, {d}").ToList();
        if (fromAgent is null)
        {
            problems.Add("the agent did not see the process");
        }
        else
        {
            problems.AddRange(fromProc.DifferencesFrom(fromAgent).Select(d => $"agent against /proc, {d}"));
        }
        if (problems.Count == 0)
        {
            Exact++;
            return;
        }
        _failures.Add($"{context}: {string.Join("; ", problems)}");
    }
}
