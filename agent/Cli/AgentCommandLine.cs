namespace Fleet.Agent.Cli;

internal static class AgentCommandLine
{
    public static int Run(string[] args)
    {
        _ = args;
        var collector = new Collection.HostCollector();
        var c = collector.Collect();
        Console.WriteLine($"{c.Processes.Count} processes, {c.Stats.FdsRead} fds, cpu {c.Stats.Cpu.TotalMilliseconds} ms");
        return 0;
    }
}
