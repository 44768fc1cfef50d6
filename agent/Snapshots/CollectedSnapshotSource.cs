using Fleet.Agent.Collection;
using Fleet.Agent.Grouping;
using Fleet.Agent.Streaming;
using Fleet.Contracts.V1;

namespace Fleet.Agent.Snapshots;

/// <summary>This host's snapshots: collect from procfs, group into services, build the contract's Snapshot.</summary>
internal sealed class CollectedSnapshotSource(CollectorOptions options, IReadOnlyList<GroupingRule> rules) : ISnapshotSource
{
    private readonly HostCollector _collector = new(options);
    private ServiceGrouper _grouper = new(rules);

    public Snapshot Next(DateTimeOffset now)
    {
        var collection = _collector.Collect();
        _grouper.Assign(collection.Processes);
        return SnapshotBuilder.Build(collection, sequence: 0, AgentVersion.Current);
    }

    public void SetGroupingRules(IReadOnlyList<GroupingRule> rules) => _grouper = new ServiceGrouper(rules);
}
