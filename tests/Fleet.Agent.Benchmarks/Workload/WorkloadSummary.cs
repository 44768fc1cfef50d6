using Fleet.Agent.Benchmarks.Procfs;

namespace Fleet.Agent.Benchmarks.Workload;

/// <summary>The workload as actually built, read back from /proc: what the report states and the agent faces.</summary>
internal sealed record WorkloadSummary(
    int HolderProcesses,
    long HolderFds,
    IReadOnlyDictionary<string, long> HolderFdsByKind,
    IReadOnlyDictionary<string, long> HolderTcpByState,
    HostCensus Host,
    IReadOnlyList<int> CloseWaitPorts,
    IReadOnlyList<int> EstablishedPorts,
    LoopbackSettings Settings)
{
    public const int MinimumProcesses = 10;
    public const long MinimumFds = 20_000;
    public const long MinimumTcpSockets = 5_000;

    public long HolderTcpSockets => HolderTcpByState.Values.Sum();

    /// <summary>
    /// Reads every holder from /proc, checks each client against its own account and the whole against
    /// the minimum the benchmark promises; a workload that falls short is a setup failure.
    /// </summary>
    public static async Task<WorkloadSummary> TakeAsync(HeldWorkload workload)
    {
        var figures = workload.Holders.ToDictionary(h => h, h => ProcCensus.ReadProcess(h.Pid));
        foreach (var client in workload.Clients)
        {
            var own = await client.ReportAsync();
            var differences = own.DifferencesFrom(figures[client]);
            if (differences.Count > 0)
            {
                throw new SetupException($"{client.Name} (pid {client.Pid}) is not what it says it holds: {string.Join("; ", differences)}");
            }
        }
        var summary = new WorkloadSummary(
            figures.Count,
            figures.Values.Sum(f => f.OpenFds),
            Sum(figures.Values.Select(f => f.Fds)),
            Sum(figures.Values.Select(f => f.Tcp)),
            ProcCensus.ReadHost(),
            workload.CloseWaitPorts,
            workload.EstablishedPorts,
            workload.Settings);
        if (summary.HolderProcesses < MinimumProcesses || summary.HolderFds < MinimumFds || summary.HolderTcpSockets < MinimumTcpSockets)
        {
            throw new SetupException(
                $"the workload fell short: {summary.HolderProcesses} processes, {summary.HolderFds} fds, {summary.HolderTcpSockets} TCP sockets " +
                $"(wanted at least {MinimumProcesses}, {MinimumFds}, {MinimumTcpSockets})");
        }
        return summary;
    }

    private static Dictionary<string, long> Sum(IEnumerable<IReadOnlyDictionary<string, long>> tables)
    {
        var sum = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, value) in tables.SelectMany(t => t))
        {
            sum[key] = sum.GetValueOrDefault(key) + value;
        }
        return sum;
    }
}
