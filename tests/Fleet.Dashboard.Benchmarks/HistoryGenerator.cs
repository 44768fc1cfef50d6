using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Threading.Channels;
using Fleet.Agent.Simulation;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;

namespace Fleet.Dashboard.Benchmarks;

/// <summary>What the history generation did in this run.</summary>
internal sealed record HistoryResult(
    IReadOnlyList<string> HostNames,
    long Snapshots,
    TimeSpan Elapsed,
    TimeSpan Storing,
    TimeSpan RollingUp,
    TimeSpan RollupTail,
    TimeSpan Analyzing,
    long DatabaseBytes,
    DateTimeOffset SimulationStart,
    bool Reused,
    string RollupCheck);

/// <summary>
/// The history the host page reads: every simulated host's snapshots at 10 s steps over the last days, taken from
/// <see cref="SimulatedHost"/> (so they are what a simulated agent would send), numbered per agent and written
/// through the production store (<see cref="IIngestStore.StoreSnapshotsAsync"/>: the same locks, duplicate checks,
/// service upserts, binary COPY and rollup queue as ingest) in large batches; the production
/// rollup statements then build the 1-minute and 1-hour rollups from the queue (see <see cref="HistoryRollups"/>).
/// Generation runs on all cores while the previous chunk is stored. With a kept database only the time since the
/// newest stored snapshot of each host is generated (the simulation's start time is kept beside the cluster, so
/// the series continue where they stopped).
/// </summary>
internal static class HistoryGenerator
{
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    private const int StepsPerChunk = 60;          // 10 minutes of every host per chunk
    private const int BatchSize = 500;             // snapshots per storage transaction
    // The minute rollup runs after every chunk (10 simulated minutes of every host). Beside ingest, as the server's
    // job runs, it was slower here: ingest and the rollup wait on each other's rollup_queue row locks, and on 2 cores
    // there is no idle core for it. After every 3 simulated hours, a statement of the rollup (all the buckets in one)
    // took over Npgsql's default 30 s command timeout on this loaded machine.
    private const int ChunksPerRollup = 1;

    public static async Task<HistoryResult> GenerateAsync(BenchCluster cluster, HistoryDatabase db, BenchmarkOptions options, TextWriter progress, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        var now = DateTimeOffset.UtcNow;
        var (simulationStart, reused) = SimulationStart(cluster.Root, options.Seed, now - TimeSpan.FromDays(options.Days));
        var token = await db.Store.AddTokenAsync("dashboard-benchmark", RandomNumberGenerator.GetBytes(32), ct);

        var hosts = new SimulatedHost[options.Hosts];
        var agents = new AgentRegistration[options.Hosts];
        var firstStep = new long[options.Hosts];
        var lastStep = new long[options.Hosts];
        var sequences = new ulong[options.Hosts];
        var windowStart = now - TimeSpan.FromDays(options.Days);
        for (int i = 0; i < options.Hosts; i++)
        {
            hosts[i] = new SimulatedHost(options.Seed, i + 1, simulationStart);
            // The identity from a twin of the host, so the generating one starts from its first step.
            var identity = new SimulatedHost(options.Seed, i + 1, simulationStart).Next(now).Host;
            agents[i] = await db.Store.RegisterAgentAsync(
                new AgentHello(string.Create(CultureInfo.InvariantCulture, $"dash-bench-{i + 1:D4}"), identity, identity.AgentVersion, token.Id, null), ct);
            sequences[i] = agents[i].LastCommittedSequence;
            var newest = await db.ScalarAsync<DateTime?>("SELECT latest_collected_at FROM hosts WHERE id = $1", ct, (int)agents[i].HostKey);
            var from = newest is { } n && new DateTimeOffset(n, TimeSpan.Zero) > windowStart ? new DateTimeOffset(n, TimeSpan.Zero) + TimeSpan.FromSeconds(1) : windowStart;
            firstStep[i] = (long)Math.Ceiling((from - HostOrigin(simulationStart, i)) / Step);
            lastStep[i] = (long)Math.Floor((now - HostOrigin(simulationStart, i)) / Step);
        }
        long minStep = firstStep.Min();
        long maxStep = lastStep.Max();
        long planned = Enumerable.Range(0, options.Hosts).Sum(i => Math.Max(0, lastStep[i] - firstStep[i] + 1));
        progress.WriteLine(Invariant($"history: {options.Hosts} hosts, {planned:N0} snapshots to generate ({(reused ? "continuing the kept history" : "new history")}, {options.Days} days at 10 s)"));

        var chunks = Channel.CreateBounded<List<(AgentRegistration, Snapshot)>>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        var producer = Task.Run(async () =>
        {
            try
            {
                for (long chunkStart = minStep; chunkStart <= maxStep; chunkStart += StepsPerChunk)
                {
                    long chunkEnd = Math.Min(maxStep, chunkStart + StepsPerChunk - 1);
                    var perHost = new List<Snapshot>[options.Hosts];
                    Parallel.For(0, options.Hosts, new ParallelOptions { CancellationToken = ct }, i =>
                    {
                        var list = perHost[i] = new List<Snapshot>(StepsPerChunk);
                        for (long k = Math.Max(chunkStart, firstStep[i]); k <= Math.Min(chunkEnd, lastStep[i]); k++)
                        {
                            var snapshot = hosts[i].Next(HostOrigin(simulationStart, i) + k * Step);
                            snapshot.Sequence = ++sequences[i];
                            list.Add(snapshot);
                        }
                    });
                    // In arrival order: step by step, every host's snapshot of that step.
                    var arrival = new List<(AgentRegistration, Snapshot)>(options.Hosts * StepsPerChunk);
                    var cursors = new int[options.Hosts];
                    for (long k = chunkStart; k <= chunkEnd; k++)
                    {
                        for (int i = 0; i < options.Hosts; i++)
                        {
                            if (k >= firstStep[i] && k <= lastStep[i])
                            {
                                arrival.Add((agents[i], perHost[i][cursors[i]++]));
                            }
                        }
                    }
                    await chunks.Writer.WriteAsync(arrival, ct);
                }
                chunks.Writer.Complete();
            }
            catch (Exception e)
            {
                chunks.Writer.Complete(e);
            }
        }, ct);

        long stored = 0;
        var storing = new Stopwatch();
        var rollingUp = new Stopwatch();
        int chunkCount = 0;
        var lastReport = Stopwatch.StartNew();
        await foreach (var chunk in chunks.Reader.ReadAllAsync(ct))
        {
            storing.Start();
            foreach (var batch in chunk.Chunk(BatchSize))
            {
                var outcomes = await db.Store.StoreSnapshotsAsync(batch, ct);
                if (outcomes.Any(o => o != StoreOutcome.Stored))
                {
                    throw new InvalidOperationException("a generated snapshot was not stored as new");
                }
                stored += batch.Length;
            }
            storing.Stop();
            if (++chunkCount % ChunksPerRollup == 0)
            {
                rollingUp.Start();
                await HistoryRollups.MinutesAsync(db.DataSource, ct);
                rollingUp.Stop();
            }
            if (lastReport.Elapsed > TimeSpan.FromSeconds(30))
            {
                lastReport.Restart();
                double rate = stored / total.Elapsed.TotalSeconds;
                progress.WriteLine(Invariant($"  {stored:N0} / {planned:N0} snapshots after {total.Elapsed.TotalSeconds:0} s ({rate:0}/s; store {storing.Elapsed.TotalSeconds:0} s, rollups {rollingUp.Elapsed.TotalSeconds:0} s; about {(planned - stored) / Math.Max(1, rate) / 60:0} min left)"));
            }
        }
        await producer;
        var tail = Stopwatch.StartNew();
        rollingUp.Start();
        await HistoryRollups.MinutesAsync(db.DataSource, ct);
        await HistoryRollups.HoursAsync(db.DataSource, ct);
        rollingUp.Stop();
        tail.Stop();
        string comparison = await HistoryRollups.CompareWithServiceAsync(db, (int)agents[0].HostKey, ct);
        // What autovacuum's analyze would have done by the time a server with this history is read.
        var analyzing = Stopwatch.StartNew();
        await db.ExecuteAsync("ANALYZE", ct);
        analyzing.Stop();
        long bytes = await db.ScalarAsync<long>($"SELECT pg_database_size('{BenchCluster.Database}')", ct);
        return new HistoryResult(
            [.. hosts.Select(h => h.Hostname)], stored, total.Elapsed, storing.Elapsed, rollingUp.Elapsed, tail.Elapsed, analyzing.Elapsed, bytes, simulationStart, reused, comparison);
    }

    /// <summary>Host i's snapshots fall on its own 10 s grid (offset by a second per host, as agents are not in step).</summary>
    private static DateTimeOffset HostOrigin(DateTimeOffset simulationStart, int i) => simulationStart + TimeSpan.FromSeconds(i % 10);

    /// <summary>The simulation's time zero: the kept one (same seed), or <paramref name="fresh"/>, written down for the next run.</summary>
    private static (DateTimeOffset Start, bool Reused) SimulationStart(string root, int seed, DateTimeOffset fresh)
    {
        string file = Path.Combine(root, "history.txt");
        if (File.Exists(file))
        {
            var values = File.ReadAllLines(file).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
            if (values.GetValueOrDefault("seed") != seed.ToString(CultureInfo.InvariantCulture))
            {
                throw new InvalidOperationException($"{file}: the kept history was made with seed {values.GetValueOrDefault("seed")}, not {seed}: use --seed {values.GetValueOrDefault("seed")} or another folder");
            }
            return (DateTimeOffset.Parse(values["start"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal), true);
        }
        var start = new DateTimeOffset(fresh.UtcDateTime.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        File.WriteAllLines(file, [$"seed={seed.ToString(CultureInfo.InvariantCulture)}", $"start={start.ToString("O", CultureInfo.InvariantCulture)}"]);
        return (start, false);
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
