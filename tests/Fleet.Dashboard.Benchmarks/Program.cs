namespace Fleet.Dashboard.Benchmarks;

// The dashboard benchmark (a console runner, not a test). Report on stdout, progress and the server's log on stderr.
//
//   dotnet run -c Release --project tests/Fleet.Dashboard.Benchmarks -- [options]
//
// 1. Live latency: the real server (WebApplicationFactory<Program> on Kestrel, 127.0.0.1 port 0, Production
//    environment, real PostgreSQL, no local agent) and headless Chromium (Playwright, /usr/bin/chromium) on
//    /hosts/<name>?range=15m of a simulated host whose snapshots arrive over real gRPC every 300-500 ms, each with a
//    new sequence and a changed CLOSE_WAIT total. Per snapshot: t0 just before the stream write, t1 when a
//    MutationObserver in the page reports the new last-snapshot data-sequence (or host-close-wait data-value)
//    through an exposed function, same Stopwatch. Baseline: t0 -> the snapshot's Ack. Target: p95 < 1 s.
// 2. Host page load: 7 days of 10 s snapshots of 50 simulated hosts, generated from SimulatedHost and written
//    through PostgresIngestStore.StoreSnapshotsAsync (batches of 500), rolled up with RollupService's statements;
//    then GET /hosts/<name>?range=7d|24h|1h on random hosts (median, p95) against GET /healthz and /api/hosts in
//    the same loop, and IDashboardData.HostAsync alone. Target: p95 < 500 ms.
// 3. A summary table with MET / NOT MET per target.
//
// Options (see BenchmarkOptions.Usage):
//   --hosts N (50)  --days N (7)  --keep-database DIR  --seed N (1)  --live-snapshots N (150)  --live-warmup N (15)
//   --interval-ms A-B (300-500)  --requests N (30)  --skip-live  --skip-pages  --help
// Generating 50 hosts x 7 days (3 million snapshots, 24 GiB) takes far longer than the rest: about 30-35 min at
// ~1,600-1,900 snapshots/s on a quiet 2-core machine, over an hour when it is busy. Run once with
// --keep-database DIR; later runs with the same DIR only add the snapshots since the last run (about 2 min a run).
// The history's rollups use RollupService's own statements bounded to the queued range (see HistoryRollups.cs).
// Exit code: 0 when the report was made (targets met or not), 2 when the run failed, 64 on a bad command line.
// (An explicit entry class: top-level statements would make a second global Program beside the server's.)
internal static class BenchmarkProgram
{
    public static async Task<int> Main(string[] args)
    {
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
        return await DashboardBenchmark.RunAsync(options, Console.Out, Console.Error);
    }
}
