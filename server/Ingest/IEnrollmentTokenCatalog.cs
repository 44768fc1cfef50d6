namespace Fleet.Server.Ingest;

/// <summary>
/// The enrollment tokens, for <c>tokens list</c>. Proposed beside <see cref="IIngestStore"/> (storage implements
/// it, or it moves into that port); without it the command says it is not available.
/// </summary>
public interface IEnrollmentTokenCatalog
{
    /// <summary>Every token (name, creation time, revoked), oldest first; hashes and tokens are never listed.</summary>
    Task<IReadOnlyList<EnrollmentToken>> ListTokensAsync(CancellationToken ct);
}
