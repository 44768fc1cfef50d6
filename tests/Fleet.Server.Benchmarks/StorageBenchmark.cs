using System.Diagnostics;
using System.Globalization;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Fleet.Server.LocalDatabase;
using Fleet.Server.Storage.Series;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fleet.Server.Benchmarks;

/// <summary>
/// The run: a private cluster with PostgreSQL's durable defaults, an ingest database and a raw COPY database of
/// the same schema; a warm-up, then rounds that each time ingest of the fleet's next snapshots and then a raw
/// COPY of exactly the rows ingest wrote; a check that both databases hold the same rows; the footprint of one
/// host per day.
/// </summary>
internal static class StorageBenchmark
{
    private const double TargetRatio = 0.50;
    private const double TargetSnapshotsPerSecond = 200; // 2,000 agents at a 10 s interval

    private static readonly string[] RawTables = ["service_samples", "process_samples", "close_wait_samples", "host_samples"];

    private static readonly string[] Settings =
    [
        "server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_level", "wal_compression", "shared_buffers",
        "max_wal_size", "checkpoint_timeout", "default_toast_compression",
    ];

    public static async Task<int> RunAsync(BenchmarkOptions options, TextWriter report, TextWriter progress)
    {
        var total = Stopwatch.StartNew();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(30));
        var ct = cancel.Token;
        string dir = Path.Combine(Path.GetTempPath(), $"fleet-server-bench-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var cluster = new LocalPostgres(new LocalPostgresOptions { DataDirectory = dir });
        try
        {
            progress.WriteLine($"starting a private PostgreSQL cluster in {dir}");
            await cluster.StartAsync(ct);
            await using var ingestDb = await BenchmarkDatabase.CreateAsync(cluster, "fleet_ingest", ct);
            await using var copyDb = await BenchmarkDatabase.CreateAsync(cluster, "fleet_copy", ct);
            await using var footprintDb = await BenchmarkDatabase.CreateAsync(cluster, "fleet_footprint", ct);

            report.WriteLine(Invariant($"Fleet storage benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores"));
            report.WriteLine("PostgreSQL (private cluster, durable defaults): " + await SettingsAsync(ingestDb, ct));

            var runStart = DateTimeOffset.UtcNow;
            int perRound = options.PerAgentPerRound;
            int perAgent = perRound * (1 + options.Rounds);
            // Snapshots lie in the past, 10 s apart, ending a minute before now.
            var firstAt = runStart - TimeSpan.FromSeconds(10 * perAgent) - TimeSpan.FromMinutes(1);
            progress.WriteLine($"planning {options.Agents} simulated hosts (the largest of the first {SimulatedFleet.Candidates})");
            var agents = SimulatedFleet.Create(options.Seed, options.Agents, firstAt, "bench-agent");
            var token = await ingestDb.Store.AddTokenAsync("benchmark", System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), ct);
            var batching = new SnapshotBatchingOptions
            {
                MaxBatchSize = options.BatchSize,
                MaxDelay = TimeSpan.FromMilliseconds(options.WindowMilliseconds),
                QueueCapacity = Math.Max(256, 4 * options.BatchSize),
                MaxInFlightPerStream = options.InFlight,
            };
            await using var batcher = new SnapshotBatcher(ingestDb.Store, Options.Create(batching), ingestDb.Loggers.CreateLogger<SnapshotBatcher>());
            int topProcesses = ingestDb.StorageOptions.TopProcesses;

            // Warm-up (not timed): a round through both paths: registration, service rows, partitions, prepared
            // statements, and the JIT's optimized code for the hot loops.
            progress.WriteLine($"warming up: registering the agents and storing {perRound} snapshot(s) each through both paths");
            var warmUp = SimulatedFleet.Next(agents, perRound);
            foreach (var (agent, first) in agents.Zip(warmUp))
            {
                agent.Registration = await ingestDb.Store.RegisterAgentAsync(
                    new AgentHello(agent.AgentId, first[0].Host, first[0].Host.AgentVersion, token.Id, "127.0.0.1:0"), ct);
            }
            await IngestPass.RunAsync(batcher, agents, warmUp, options.InFlight, ct);
            await CopyRoundAsync(ingestDb, copyDb, agents, warmUp, options.BatchSize, topProcesses, ct);
            var shape = Shape(agents, warmUp, topProcesses);

            report.WriteLine(Invariant($"workload: {agents.Count} simulated agents (one host each, {agents.Min(a => a.Processes)}-{agents.Max(a => a.Processes)} processes, avg {agents.Average(a => a.Processes):0}; the simulator plans at most ~280), seed {options.Seed}"));
            report.WriteLine(Invariant($"  a snapshot: {shape.Bytes / 1024.0:0.0} KiB of protobuf on average, {shape.Rows:0.0} series rows ({shape.Services:0.0} service, {shape.Processes:0.0} process, {shape.CloseWait:0.0} CLOSE_WAIT, 1 host)"));
            report.WriteLine(Invariant($"  {options.Rounds} rounds of {perRound} snapshot(s) per agent ({perRound * agents.Count} per round), after a warm-up round of as many"));
            report.WriteLine(Invariant($"ingest:   SnapshotBatcher (batches of up to {options.BatchSize}, window {options.WindowMilliseconds} ms) + PostgresIngestStore; {agents.Count} streams, {options.InFlight} snapshots in flight each"));
            report.WriteLine(Invariant($"raw COPY: the same rows encoded ahead of time, one binary COPY per table per {options.BatchSize} snapshots, one transaction each, into a second database of the same schema; no locks, duplicate check, services or latest snapshot"));
            report.WriteLine();
            report.WriteLine("| round | ingest snapshots/s | ingest rows/s | avg batch | CPU ms per 1,000 (Fleet / PostgreSQL) | raw COPY snapshots/s | raw COPY rows/s | CPU ms per 1,000 (Fleet / PostgreSQL) | ratio |");
            report.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");

            var ingests = new List<PassResult>();
            var copies = new List<PassResult>();
            for (int r = 1; r <= options.Rounds; r++)
            {
                progress.WriteLine($"round {r}/{options.Rounds}: simulating {perRound * agents.Count} snapshots");
                var snapshots = SimulatedFleet.Next(agents, perRound);
                int count = snapshots.Sum(s => s.Count);
                progress.WriteLine($"round {r}/{options.Rounds}: ingest");
                Settle();
                var cpuBefore = CpuSample.Take();
                var (ingestElapsed, averageBatch) = await IngestPass.RunAsync(batcher, agents, snapshots, options.InFlight, ct);
                var ingestCpu = CpuSample.Take() - cpuBefore;
                progress.WriteLine($"round {r}/{options.Rounds}: raw COPY");
                var (copyElapsed, rows, copyCpu) = await CopyRoundAsync(ingestDb, copyDb, agents, snapshots, options.BatchSize, topProcesses, ct);
                var ingest = new PassResult(count, rows, ingestElapsed, averageBatch, ingestCpu);
                var copy = new PassResult(count, rows, copyElapsed, options.BatchSize, copyCpu);
                ingests.Add(ingest);
                copies.Add(copy);
                report.WriteLine(Row(r.ToString(CultureInfo.InvariantCulture), ingest, copy));
            }
            var ingestAll = Sum(ingests);
            var copyAll = Sum(copies);
            double ratio = ingestAll.RowsPerSecond / copyAll.RowsPerSecond;
            report.WriteLine(Row("all", ingestAll, copyAll));
            report.WriteLine();
            report.WriteLine(Invariant($"ingest / raw COPY = {ratio:0.00} (per round {ingests.Zip(copies).Min(p => p.First.RowsPerSecond / p.Second.RowsPerSecond):0.00}-{ingests.Zip(copies).Max(p => p.First.RowsPerSecond / p.Second.RowsPerSecond):0.00}); target >= {TargetRatio:0.00}: {(ratio >= TargetRatio ? "met" : "MISSED")}"));
            report.WriteLine(Invariant($"ingest {ingestAll.SnapshotsPerSecond:0} snapshots/s; 2,000 agents at 10 s need {TargetSnapshotsPerSecond:0}: {(ingestAll.SnapshotsPerSecond >= TargetSnapshotsPerSecond ? "met" : "MISSED")} ({ingestAll.SnapshotsPerSecond / TargetSnapshotsPerSecond:0.0}x)"));
            report.WriteLine(await SameRowsAsync(ingestDb, copyDb, ct));
            report.WriteLine();

            progress.WriteLine($"footprint: two simulated hours ({Footprint.SnapshotsPerHour} snapshots each) of one host");
            var biggest = agents.MaxBy(a => a.Processes)!;
            var footprint = await Footprint.MeasureAsync(footprintDb, options.Seed, biggest.Host.Index, batching, ct);
            ReportFootprint(report, footprint);
            report.WriteLine();
            report.WriteLine(Invariant($"total run time {total.Elapsed.TotalSeconds:0} s"));
            return ExitCodes.Reported;
        }
        catch (Exception e) when (e is LocalPostgresException or NpgsqlException or InvalidOperationException or IOException or OperationCanceledException)
        {
            progress.WriteLine($"benchmark failed: {e}");
            return ExitCodes.Failed;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await cluster.StopAsync(CancellationToken.None);
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<(TimeSpan Elapsed, long Rows, CpuSample Cpu)> CopyRoundAsync(
        BenchmarkDatabase ingestDb, BenchmarkDatabase copyDb, IReadOnlyList<SimulatedAgent> agents, List<Snapshot>[] snapshots, int batchSize, int topProcesses, CancellationToken ct)
    {
        foreach (var day in snapshots.SelectMany(s => s).Select(s => DateOnly.FromDateTime(SnapshotFigures.Time(s.CollectedAt))).Distinct())
        {
            await copyDb.Partitions.EnsureDayAsync(day, ct);
        }
        var ids = await CopyPass.ServiceIdsAsync(ingestDb.DataSource, ct);
        var batches = CopyPass.Encode(agents, snapshots, batchSize, topProcesses, ids);
        try
        {
            var before = CpuSample.Take();
            var elapsed = await CopyPass.RunAsync(copyDb.DataSource, batches, ct);
            return (elapsed, batches.Sum(b => b.Rows), CpuSample.Take() - before);
        }
        finally
        {
            foreach (var b in batches)
            {
                b.Dispose();
            }
        }
    }

    /// <summary>Before a timed pass: the snapshots simulated for it become old objects, as a server's would not be, so collect now.</summary>
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static PassResult Sum(List<PassResult> passes) => new(
        passes.Sum(p => p.Snapshots),
        passes.Sum(p => p.Rows),
        TimeSpan.FromTicks(passes.Sum(p => p.Elapsed.Ticks)),
        passes.Sum(p => p.AverageBatch * p.Snapshots) / passes.Sum(p => p.Snapshots),
        new CpuSample(TimeSpan.FromTicks(passes.Sum(p => p.Cpu.Own.Ticks)), TimeSpan.FromTicks(passes.Sum(p => p.Cpu.Postgres.Ticks))));

    private static string Row(string round, PassResult ingest, PassResult copy) => Invariant(
        $"| {round} | {ingest.SnapshotsPerSecond:0} | {ingest.RowsPerSecond:0} | {ingest.AverageBatch:0.0} | {Cpu(ingest)} | {copy.SnapshotsPerSecond:0} | {copy.RowsPerSecond:0} | {Cpu(copy)} | {ingest.RowsPerSecond / copy.RowsPerSecond:0.00} |");

    private static string Cpu(PassResult p) => Invariant(
        $"{p.Cpu.Own.TotalMilliseconds * 1000 / p.Snapshots:0} / {p.Cpu.Postgres.TotalMilliseconds * 1000 / p.Snapshots:0}");

    private static (double Bytes, double Rows, double Services, double Processes, double CloseWait) Shape(
        IReadOnlyList<SimulatedAgent> agents, List<Snapshot>[] snapshots, int topProcesses)
    {
        var all = snapshots.SelectMany(s => s).ToList();
        var ids = all.Select(s => s.Services.Select(v => v.Name).Concat(s.Processes.Select(p => p.Service)).Distinct().Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i)).ToList();
        using var rows = new SeriesRows(all.Count, topProcesses);
        for (int i = 0; i < all.Count; i++)
        {
            rows.Add(1, all[i], SnapshotFigures.Time(all[i].CollectedAt), ids[i]);
        }
        double n = all.Count;
        return (all.Average(s => s.CalculateSize()), rows.Rows / n, rows.Services.Rows / n, rows.Processes.Rows / n, rows.CloseWait.Rows / n);
    }

    private static async Task<string> SettingsAsync(BenchmarkDatabase db, CancellationToken ct)
    {
        await using var cmd = db.DataSource.CreateCommand("SELECT name, setting, coalesce(unit, '') FROM pg_settings WHERE name = ANY($1)");
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = Settings });
        var values = new Dictionary<string, string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            string unit = reader.GetString(2);
            string setting = reader.GetString(1);
            values[reader.GetString(0)] = unit switch
            {
                "8kB" => Invariant($"{long.Parse(setting, CultureInfo.InvariantCulture) * 8 / 1024}MB"),
                "MB" or "s" => setting + unit,
                _ => setting,
            };
        }
        return string.Join(", ", Settings.Where(values.ContainsKey).Select(s => $"{s}={values[s]}"));
    }

    /// <summary>Both databases hold the same series rows: per table, the count and a sum of hashes of every row.</summary>
    private static async Task<string> SameRowsAsync(BenchmarkDatabase a, BenchmarkDatabase b, CancellationToken ct)
    {
        var parts = new List<string>();
        bool same = true;
        foreach (string table in RawTables)
        {
            string sql = $"SELECT count(*), coalesce(sum(hashtext(t::text)::bigint), 0)::bigint FROM {table} t";
            var (countA, hashA) = await CountAndHashAsync(a, sql, ct);
            var (countB, hashB) = await CountAndHashAsync(b, sql, ct);
            same &= countA == countB && hashA == hashB;
            parts.Add(Invariant($"{table} {countA:N0}{(countA == countB ? "" : $" vs {countB:N0}")}"));
        }
        return $"rows in the ingest and raw COPY databases identical (count and hash of every row): {(same ? "yes" : "NO")} ({string.Join(", ", parts)})";
    }

    private static async Task<(long Count, long Hash)> CountAndHashAsync(BenchmarkDatabase db, string sql, CancellationToken ct)
    {
        await using var cmd = db.DataSource.CreateCommand(sql);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static void ReportFootprint(TextWriter report, FootprintResult f)
    {
        report.WriteLine(Invariant($"bytes stored per host per day at a 10 s interval: {f.Hostname} ({f.Processes} processes), one simulated hour ({f.Snapshots} snapshots) through ingest, rolled up, VACUUM ANALYZE; pg_total_relation_size x 24"));
        report.WriteLine();
        report.WriteLine("| table | rows per hour | KiB per hour (heap) | MiB per day |");
        report.WriteLine("| --- | --- | --- | --- |");
        foreach (var t in f.Tables)
        {
            report.WriteLine(Invariant($"| {t.Table} | {t.Rows:N0} | {t.Bytes / 1024.0:0} ({t.HeapBytes / 1024.0:0}) | {t.Bytes * 24 / 1048576.0:0.0} |"));
        }
        report.WriteLine(Invariant($"| total | | {f.HourBytes / 1024.0:0} | {f.MiBPerDay:0.0} |"));
        report.WriteLine();
        report.WriteLine(Invariant($"per host per day: {f.MiBPerDay:0.0} MiB (a second hour added {f.SecondHourBytes / 1024.0:0} KiB: {f.MarginalMiBPerDay:0.0} MiB per day without the partitions' fixed size, which a fleet shares)"));
        report.WriteLine(Invariant($"the host row also keeps the latest snapshot: {f.LatestProtobufBytes:N0} bytes of protobuf, {f.LatestStoredBytes:N0} stored (lz4)"));
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
