using Fleet.Contracts.V1;

namespace Fleet.Server.Ingest;

/// <summary>
/// Told of every snapshot once its transaction committed (not of duplicates, nor of failed batches). Called on the
/// batcher's loop: an implementation must return at once (hand the work to a queue of its own) and never throw.
/// </summary>
public interface IStoredSnapshotObserver
{
    void Stored(AgentRegistration agent, Snapshot snapshot);
}
