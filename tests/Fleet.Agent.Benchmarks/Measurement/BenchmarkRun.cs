using Fleet.Agent.Benchmarks.Procfs;
using Fleet.Agent.Benchmarks.Workload;

namespace Fleet.Agent.Benchmarks.Measurement;

/// <summary>
/// The measuring itself. Every round runs the baselines (ss -tanp, the two C loops) and the agent
/// back to back, so that the ratios compare figures taken under the same noise:
/// a fresh agent's first collection; then repeated collections by two long-lived agents (with change
/// detection, and --full) after a holder changed a few sockets, each checked against /proc for that holder.
/// </summary>
internal sealed class BenchmarkRun(string agentPath, string loopPath, HeldWorkload workload, int rounds, TextWriter log)
{
    private static readonly TimeSpan BaselineTimeout = TimeSpan.FromMinutes(2);

    public async Task<BenchmarkResults> RunAsync()
    {
        var results = new BenchmarkResults();
        await using var incremental = AgentSession.Start(agentPath, full: false);
        await using var full = AgentSession.Start(agentPath, full: true);
        RecordFirst(results, await incremental.CollectAsync());
        await full.CollectAsync();

        for (int round = 1; round <= rounds; round++)
        {
            log.WriteLine($"  round {round} of {rounds}");
            await MeasureBaselinesAsync(results);

            await using (var fresh = AgentSession.Start(agentPath, full: false))
            {
                var first = await fresh.CollectAsync();
                RecordFirst(results, first);
                results.FreshAgentsMaxResidentBytes = Math.Max(results.FreshAgentsMaxResidentBytes, first.ResidentBytes);
            }

            await MeasureRepeatedAsync(results, incremental, full, round);
        }
        return results;
    }

    /// <summary>
    /// One client changes a few sockets and a few others are woken without changing anything; both agents
    /// collect again. Then another client changes alone and the agent with change detection collects once more.
    /// </summary>
    private async Task MeasureRepeatedAsync(BenchmarkResults results, AgentSession incremental, AgentSession full, int round)
    {
        var clients = workload.Clients;
        var changed = clients[round % clients.Count];
        var ownAccount = await workload.ChurnAsync(changed);
        int woken = Math.Min(workload.Plan.PingedPerRound, clients.Count - 2);
        results.WokenPerRound = woken;
        for (int i = 1; i <= woken; i++)
        {
            await clients[(round + i) % clients.Count].PingAsync();
        }
        var fromProc = ProcCensus.ReadProcess(changed.Pid);

        var repeated = await incremental.CollectAsync(changed.Pid);
        results.Repeated.Add(repeated.Cpu, repeated.Wall);
        results.Rescanned.Add(repeated.Rescanned);
        results.ProcessesSeen.Add(repeated.Processes);
        results.FdsReadRepeated.Add(repeated.FdsRead);
        results.Exactness.Check($"round {round}, agent, {changed.Name} (pid {changed.Pid})", fromProc, ownAccount, repeated.Process);

        var repeatedFull = await full.CollectAsync(changed.Pid);
        results.RepeatedFull.Add(repeatedFull.Cpu, repeatedFull.Wall);
        results.FullAgentResidentBytes = repeatedFull.ResidentBytes;
        results.Exactness.Check($"round {round}, agent --full, {changed.Name} (pid {changed.Pid})", fromProc, ownAccount, repeatedFull.Process);

        var alone = clients[(round + woken + 1) % clients.Count];
        var aloneAccount = await workload.ChurnAsync(alone);
        var aloneFromProc = ProcCensus.ReadProcess(alone.Pid);
        var changedOnly = await incremental.CollectAsync(alone.Pid);
        results.RepeatedChangedOnly.Add(changedOnly.Cpu, changedOnly.Wall);
        results.RescannedChangedOnly.Add(changedOnly.Rescanned);
        results.FdsReadChangedOnly.Add(changedOnly.FdsRead);
        results.IncrementalAgentResidentBytes = changedOnly.ResidentBytes;
        results.Exactness.Check($"round {round}, agent, {alone.Name} changed alone (pid {alone.Pid})", aloneFromProc, aloneAccount, changedOnly.Process);
    }

    private static void RecordFirst(BenchmarkResults results, AgentCollection first)
    {
        results.FirstCollection.Add(first.Cpu, first.Wall);
        results.FdsReadFirst.Add(first.FdsRead);
    }

    private async Task MeasureBaselinesAsync(BenchmarkResults results)
    {
        await MeasureAsync(results.StartUp, "/bin/true", []);
        await MeasureAsync(results.Ss, "ss", ["-tanp"]);
        await MeasureAsync(results.ListLoop, loopPath, []);
        results.LoopSaw = await MeasureAsync(results.ReadlinkLoop, loopPath, ["--readlink"]);
    }

    private static async Task<string> MeasureAsync(Timing timing, string executable, IReadOnlyList<string> arguments)
    {
        var run = await ChildCpu.MeasureAsync(executable, arguments, BaselineTimeout);
        if (run.ExitCode != 0)
        {
            throw new SetupException($"{executable} {string.Join(' ', arguments)} failed with exit code {run.ExitCode}: {run.Diagnostics}");
        }
        timing.Add(run.Cpu, run.Wall);
        return run.Diagnostics;
    }
}
