using Fleet.Contracts.V1;

namespace Fleet.Agent.Streaming;

/// <summary>Where an agent's snapshots come from: this host's procfs, or a simulated host.</summary>
internal interface ISnapshotSource
{
    /// <summary>One snapshot as of <paramref name="now"/>; its sequence is set by the spool afterwards.</summary>
    Snapshot Next(DateTimeOffset now);

    /// <summary>Replaces the service grouping rules (throws GroupingRuleException for a rule that cannot be used).</summary>
    void SetGroupingRules(IReadOnlyList<GroupingRule> rules);
}
