using Fleet.Contracts.V1;

namespace Fleet.Server.Ingest;

/// <summary>
/// What ingest needs from storage. Implemented by Storage; ingest never touches the database itself.
/// </summary>
public interface IIngestStore
{
    /// <summary>The enrollment token whose SHA-256 hash this is, or null.</summary>
    Task<EnrollmentToken?> FindTokenAsync(byte[] tokenHash, CancellationToken ct);

    /// <summary>Adds an enrollment token (its hash only; the token itself is shown once and never stored).</summary>
    Task<EnrollmentToken> AddTokenAsync(string name, byte[] tokenHash, CancellationToken ct);

    /// <summary>
    /// Registers the agent (by agent id) and its host (by machine id) on hello, or refreshes them (hostname,
    /// version, token, address, last seen); returns the highest sequence already committed for the agent.
    /// </summary>
    Task<AgentRegistration> RegisterAgentAsync(AgentHello hello, CancellationToken ct);

    /// <summary>
    /// Stores one validated snapshot in one transaction, exactly once per (agent, sequence): returns
    /// <see cref="StoreOutcome.Duplicate"/> without storing anything when that sequence was already
    /// committed. Throws when the database fails; then nothing of the snapshot is stored.
    /// </summary>
    Task<StoreOutcome> StoreSnapshotAsync(AgentRegistration agent, Snapshot snapshot, CancellationToken ct);
}

public sealed record EnrollmentToken(long Id, string Name, DateTimeOffset CreatedAt, bool Revoked);

public sealed record AgentHello(string AgentId, HostIdentity Host, string AgentVersion, long TokenId, string? PeerAddress);

public sealed record AgentRegistration(long AgentKey, long HostKey, string AgentId, string HostName, ulong LastCommittedSequence);

public enum StoreOutcome
{
    Stored,
    Duplicate,
}
