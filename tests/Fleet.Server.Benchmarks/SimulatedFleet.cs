using Fleet.Agent.Simulation;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;

namespace Fleet.Server.Benchmarks;

/// <summary>One simulated agent: its host, its registration in the ingest database and its next sequence.</summary>
internal sealed class SimulatedAgent(string agentId, SimulatedHost host, DateTimeOffset firstSnapshotAt)
{
    private ulong _sequence;

    public string AgentId { get; } = agentId;

    public SimulatedHost Host { get; } = host;

    public int Processes { get; } = host.Services.Sum(s => s.ProcessCount);

    public AgentRegistration? Registration { get; set; }

    /// <summary>The agent's next <paramref name="count"/> snapshots, 10 s apart, numbered on from the last ones.</summary>
    public List<Snapshot> Next(int count)
    {
        var snapshots = new List<Snapshot>(count);
        for (int i = 0; i < count; i++)
        {
            _sequence++;
            var snapshot = Host.Next(firstSnapshotAt + TimeSpan.FromSeconds(10 * (_sequence - 1)));
            snapshot.Sequence = _sequence;
            snapshots.Add(snapshot);
        }
        return snapshots;
    }
}

/// <summary>
/// The simulated fleet: the agents with the most processes among the first <see cref="Candidates"/> hosts the
/// simulator makes for the seed (it plans ~50-280 processes a host), so snapshots are close to 300 processes.
/// </summary>
internal static class SimulatedFleet
{
    public const int Candidates = 3000;

    /// <summary>
    /// <paramref name="count"/> agents whose snapshots start at <paramref name="firstSnapshotAt"/> (plus a few
    /// seconds per host, so the fleet's snapshots do not all carry the same time).
    /// </summary>
    public static List<SimulatedAgent> Create(int seed, int count, DateTimeOffset firstSnapshotAt, string agentPrefix)
    {
        var start = firstSnapshotAt - TimeSpan.FromHours(1);
        int candidates = Math.Max(Candidates, count);
        return [.. Enumerable.Range(1, candidates)
            .Select(i => new SimulatedHost(seed, i, start))
            .Select(h => (Host: h, Processes: h.Services.Sum(s => s.ProcessCount)))
            .OrderByDescending(h => h.Processes)
            .ThenBy(h => h.Host.Index)
            .Take(count)
            .OrderBy(h => h.Host.Index)
            .Select(h => new SimulatedAgent($"{agentPrefix}-{h.Host.Index:D4}", h.Host, firstSnapshotAt + TimeSpan.FromSeconds(h.Host.Index % 10)))];
    }

    /// <summary>Each agent's next snapshots (generated on every core; a host is used by one thread at a time).</summary>
    public static List<Snapshot>[] Next(IReadOnlyList<SimulatedAgent> agents, int perAgent)
    {
        var result = new List<Snapshot>[agents.Count];
        Parallel.For(0, agents.Count, i => result[i] = agents[i].Next(perAgent));
        return result;
    }
}
