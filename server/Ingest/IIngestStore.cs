using Fleet.Contracts.V1;

namespace Fleet.Server.Ingest;

/// <summary>
/// What ingest needs from storage. Implemented by Storage; ingest never touches the database itself.
/// </summary>
public interface IIngestStore
{
    /// <summary>The enrollment token whose SHA-256 hash this is, or null.</summary>
    Task<EnrollmentToken?> FindTokenAsync(byte[] tokenHash, CancellationToken ct);

    /// <summary>
    /// Which of <paramref name="tokenIds"/> are revoked now (by anyone: another server, the database). A store that
    /// cannot tell returns none; then a revocation made elsewhere is only seen when the agent reconnects.
    /// </summary>
    Task<IReadOnlyList<long>> RevokedAmongAsync(IReadOnlyCollection<long> tokenIds, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<long>>([]);

    /// <summary>Adds an enrollment token (its hash only; the token itself is shown once and never stored).</summary>
    Task<EnrollmentToken> AddTokenAsync(string name, byte[] tokenHash, CancellationToken ct);

    /// <summary>
    /// Registers the agent (by agent id) and its host (by machine id) on hello, or refreshes them (hostname,
    /// version, token, address, last seen); returns the highest sequence already committed for the agent.
    /// </summary>
    Task<AgentRegistration> RegisterAgentAsync(AgentHello hello, CancellationToken ct);

    /// <summary>
    /// Stores a batch of validated snapshots, of one agent or many, in one transaction, exactly once per
    /// (agent, sequence), and returns an outcome per item in the batch's order. An item whose sequence is not above
    /// the agent's last committed one (counting the items before it in the batch) is a
    /// <see cref="StoreOutcome.Duplicate"/> and stores nothing. All or nothing: when it throws (the database
    /// failed), nothing of the batch is stored. An <see cref="ArgumentException"/> means the store cannot take an
    /// item (a value the database would refuse); the others can be stored without it.
    /// </summary>
    Task<IReadOnlyList<StoreOutcome>> StoreSnapshotsAsync(IReadOnlyList<(AgentRegistration Agent, Snapshot Snapshot)> batch, CancellationToken ct);

    /// <summary>
    /// Stores one validated snapshot (a batch of one): <see cref="StoreOutcome.Duplicate"/> without storing
    /// anything when that sequence was already committed. Throws when the database fails; then nothing of the
    /// snapshot is stored.
    /// </summary>
    async Task<StoreOutcome> StoreSnapshotAsync(AgentRegistration agent, Snapshot snapshot, CancellationToken ct) =>
        (await StoreSnapshotsAsync([(agent, snapshot)], ct).ConfigureAwait(false))[0];
}

public sealed record EnrollmentToken(long Id, string Name, DateTimeOffset CreatedAt, bool Revoked);

public sealed record AgentHello(string AgentId, HostIdentity Host, string AgentVersion, long TokenId, string? PeerAddress);

public sealed record AgentRegistration(long AgentKey, long HostKey, string AgentId, string HostName, ulong LastCommittedSequence);

public enum StoreOutcome
{
    Stored,
    Duplicate,
}
