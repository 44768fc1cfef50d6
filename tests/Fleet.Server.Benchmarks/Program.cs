using Fleet.Server.Benchmarks;

// Measures Fleet's snapshot ingest (SnapshotBatcher + PostgresIngestStore) against a raw binary COPY of the
// same rows on a private PostgreSQL cluster, and the bytes one host costs per day. Report on stdout,
// progress on stderr.
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
return await StorageBenchmark.RunAsync(options, Console.Out, Console.Error);
