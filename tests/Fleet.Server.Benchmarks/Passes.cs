using System.Diagnostics;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Fleet.Server.Storage.Series;
using Npgsql;

namespace Fleet.Server.Benchmarks;

/// <summary>What one timed pass stored.</summary>
internal sealed record PassResult(int Snapshots, long Rows, TimeSpan Elapsed, double AverageBatch, CpuSample Cpu)
{
    public double SnapshotsPerSecond => Snapshots / Elapsed.TotalSeconds;

    public double RowsPerSecond => Rows / Elapsed.TotalSeconds;
}

/// <summary>Ingest as the server does it: every agent a stream of its own, submitting to the one SnapshotBatcher.</summary>
internal static class IngestPass
{
    /// <summary>Every agent's snapshots, its stream keeping up to <paramref name="inFlight"/> ahead of their acknowledgements; all must be stored.</summary>
    public static async Task<(TimeSpan Elapsed, double AverageBatch)> RunAsync(
        SnapshotBatcher batcher, IReadOnlyList<SimulatedAgent> agents, List<Snapshot>[] snapshots, int inFlight, CancellationToken ct)
    {
        var before = batcher.Statistics;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(agents.Select((a, i) => Task.Run(() => StreamAsync(batcher, a.Registration!, snapshots[i], inFlight, ct), ct)));
        clock.Stop();
        var after = batcher.Statistics;
        long batches = after.Batches - before.Batches;
        return (clock.Elapsed, batches == 0 ? 0 : (after.Snapshots - before.Snapshots) / (double)batches);
    }

    private static async Task StreamAsync(SnapshotBatcher batcher, AgentRegistration agent, List<Snapshot> snapshots, int inFlight, CancellationToken ct)
    {
        var lane = new SnapshotLane();
        var pending = new Queue<(ulong Sequence, Task<StoreOutcome> Outcome)>();
        foreach (var snapshot in snapshots)
        {
            if (pending.Count == inFlight)
            {
                await ExpectStoredAsync(agent, pending.Dequeue());
            }
            pending.Enqueue((snapshot.Sequence, await batcher.SubmitAsync(lane, agent, snapshot, ct)));
        }
        while (pending.Count > 0)
        {
            await ExpectStoredAsync(agent, pending.Dequeue());
        }
    }

    private static async Task ExpectStoredAsync(AgentRegistration agent, (ulong Sequence, Task<StoreOutcome> Outcome) pending)
    {
        if (await pending.Outcome != StoreOutcome.Stored)
        {
            throw new InvalidOperationException($"snapshot {pending.Sequence} of {agent.AgentId} was not stored as new");
        }
    }
}

/// <summary>
/// The reference: the same series rows, encoded ahead of time by the store's own encoder with the service ids
/// ingest gave them, sent with one raw binary COPY per table per batch, one transaction per batch, into a
/// database of the same schema: no locks, no duplicate check, no services, no latest snapshot.
/// </summary>
internal static class CopyPass
{
    /// <summary>The snapshots interleaved across agents as they arrive, in batches of <paramref name="batchSize"/>, encoded.</summary>
    public static List<SeriesRows> Encode(
        IReadOnlyList<SimulatedAgent> agents, List<Snapshot>[] snapshots, int batchSize, int topProcesses, Dictionary<int, Dictionary<string, int>> serviceIds)
    {
        var arrival = new List<(int HostId, Snapshot Snapshot)>();
        int most = snapshots.Max(s => s.Count);
        for (int k = 0; k < most; k++)
        {
            for (int a = 0; a < agents.Count; a++)
            {
                if (k < snapshots[a].Count)
                {
                    arrival.Add(((int)agents[a].Registration!.HostKey, snapshots[a][k]));
                }
            }
        }
        var batches = new List<SeriesRows>();
        foreach (var chunk in arrival.Chunk(batchSize))
        {
            var rows = new SeriesRows(chunk.Length, topProcesses);
            foreach (var (hostId, snapshot) in chunk)
            {
                rows.Add(hostId, snapshot, SnapshotFigures.Time(snapshot.CollectedAt), serviceIds[hostId]);
            }
            rows.Services.Complete();
            rows.Processes.Complete();
            rows.CloseWait.Complete();
            rows.Hosts.Complete();
            batches.Add(rows);
        }
        return batches;
    }

    public static async Task<TimeSpan> RunAsync(NpgsqlDataSource dataSource, List<SeriesRows> batches, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var clock = Stopwatch.StartNew();
        foreach (var rows in batches)
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            await rows.CopyAsync(conn, ct);
            await tx.CommitAsync(ct);
        }
        return clock.Elapsed;
    }

    /// <summary>Service ids by host and name as ingest made them.</summary>
    public static async Task<Dictionary<int, Dictionary<string, int>>> ServiceIdsAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var ids = new Dictionary<int, Dictionary<string, int>>();
        await using var cmd = dataSource.CreateCommand("SELECT host_id, name, id FROM services");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            int host = reader.GetInt32(0);
            if (!ids.TryGetValue(host, out var names))
            {
                ids[host] = names = new Dictionary<string, int>(StringComparer.Ordinal);
            }
            names[reader.GetString(1)] = reader.GetInt32(2);
        }
        return ids;
    }
}
