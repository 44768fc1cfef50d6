using Fleet.Agent.Streaming;
using Fleet.Contracts.V1;

namespace Fleet.Agent.Simulation;

/// <summary>A simulated host as the source of an agent's snapshots.</summary>
internal sealed class SimulatedSnapshotSource(SimulatedHost host) : ISnapshotSource
{
    public SimulatedHost Host { get; } = host;

    public Snapshot Next(DateTimeOffset now) => Host.Next(now);

    public void SetGroupingRules(IReadOnlyList<GroupingRule> rules) => Host.SetGroupingRules(rules);
}
