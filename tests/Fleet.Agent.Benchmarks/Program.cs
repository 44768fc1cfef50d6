using Fleet.Agent.Benchmarks;

// Measures fleet-agent's collection against ss -tanp and plain C loops over /proc on a workload of
// thousands of fds and TCP sockets held by child processes. Report on stdout, progress on stderr.
if (!BenchmarkOptions.TryParse(args, out var options, out string error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(BenchmarkOptions.Usage);
    return ExitCodes.Usage;
}
if (options.Help)
{
    Console.WriteLine(BenchmarkOptions.Usage);
    return ExitCodes.Reported;
}
return await BenchmarkSession.RunAsync(options, Console.Out, Console.Error);
