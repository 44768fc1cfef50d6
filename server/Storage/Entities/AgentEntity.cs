namespace Fleet.Server.Storage.Entities;

/// <summary>An agent, known by the id it keeps in its state folder; sequences count per agent.</summary>
public sealed class AgentEntity
{
    public long Id { get; set; }

    public required string AgentId { get; set; }

    public int HostId { get; set; }

    public HostEntity? Host { get; set; }

    /// <summary>The enrollment token the agent last said hello with.</summary>
    public long? TokenId { get; set; }

    public EnrollmentTokenEntity? Token { get; set; }

    public string Version { get; set; } = "";

    public string? PeerAddress { get; set; }

    /// <summary>The highest snapshot sequence committed for this agent (0 before the first).</summary>
    public long LastCommittedSequence { get; set; }

    public DateTimeOffset FirstSeen { get; set; }

    public DateTimeOffset LastSeen { get; set; }
}
