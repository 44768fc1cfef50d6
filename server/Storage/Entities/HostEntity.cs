namespace Fleet.Server.Storage.Entities;

/// <summary>A host, known by its machine id; keeps the latest snapshot it sent as received (protobuf).</summary>
public sealed class HostEntity
{
    public int Id { get; set; }

    public required string MachineId { get; set; }

    public required string Hostname { get; set; }

    public string Kernel { get; set; } = "";

    public string BootId { get; set; } = "";

    public string AgentVersion { get; set; } = "";

    public DateTimeOffset FirstSeen { get; set; }

    /// <summary>When the server last heard from the host's agent (hello or snapshot), by the server's clock.</summary>
    public DateTimeOffset LastSeen { get; set; }

    /// <summary>The newest snapshot by collected_at, as the protobuf bytes of fleet.v1.Snapshot.</summary>
    public byte[]? LatestSnapshot { get; set; }

    public DateTimeOffset? LatestCollectedAt { get; set; }
}
