using Fleet.Agent.Benchmarks.Measurement;
using Fleet.Agent.Benchmarks.Native;
using Fleet.Agent.Benchmarks.Report;
using Fleet.Agent.Benchmarks.Workload;

namespace Fleet.Agent.Benchmarks;

/// <summary>
/// One benchmark run from start to end: compile the C helpers, build the workload, publish the agent,
/// measure, report, and tear everything down (holders killed, scratch folder removed) whatever happens.
/// </summary>
internal static class BenchmarkSession
{
    public static async Task<int> RunAsync(BenchmarkOptions options, TextWriter output, TextWriter log)
    {
        using var scratch = new ScratchFolder();
        try
        {
            log.WriteLine($"· compiling the holder and the /proc loop with gcc in {scratch.Path}");
            string holder = await Gcc.CompileEmbeddedAsync("holder.c", scratch.Path);
            string loop = await Gcc.CompileEmbeddedAsync("proc_fd_walk.c", scratch.Path);

            var plan = new WorkloadPlan();
            log.WriteLine($"· building the workload: {plan.Servers + plan.Clients} holders, about {plan.HolderFds:N0} fds and {plan.TcpSocketsWithFd:N0} TCP sockets");
            using var workload = await HeldWorkload.BuildAsync(plan, holder, scratch.Path, log);

            string agent = await ObtainAgentAsync(options, scratch.Path, log);
            var summary = await WorkloadSummary.TakeAsync(workload);

            log.WriteLine($"· measuring {agent}");
            var results = await new BenchmarkRun(agent, loop, workload, options.Rounds, log).RunAsync();
            ReportWriter.Write(output, summary, results, options.Rounds);
            return results.Exactness.Passed ? ExitCodes.Reported : ExitCodes.NotExact;
        }
        catch (SetupException e)
        {
            log.WriteLine($"benchmark setup failed: {e.Message}");
            return ExitCodes.SetupFailed;
        }
    }

    private static async Task<string> ObtainAgentAsync(BenchmarkOptions options, string scratch, TextWriter log)
    {
        if (options.AgentPath is { } given)
        {
            return File.Exists(given) ? given : throw new SetupException($"--agent {given}: no such file");
        }
        string repo = AgentPublisher.FindRepoRoot(options.RepoRoot);
        log.WriteLine($"· publishing {Path.Combine(repo, "agent")} with NativeAOT (takes a minute or two)");
        return await AgentPublisher.PublishAsync(repo, scratch);
    }
}
