using Fleet.Server.Ingest;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Ingest;

/// <summary>Enrollment over <see cref="FakeIngestStore"/>'s tokens, for servers whose storage is the fake (the local
/// agent enrolls through <see cref="IEnrollmentAdmin"/>). Revocation is not kept: the PostgreSQL one is tested.</summary>
internal sealed class FakeEnrollmentAdmin(FakeIngestStore store) : IEnrollmentAdmin
{
    public async Task<IReadOnlyList<EnrollmentTokenView>> ListTokensAsync(CancellationToken ct) =>
        [.. (await store.ListTokensAsync(ct)).Select(t => new EnrollmentTokenView(t.Id, t.Name, t.CreatedAt, null, null, 0))];

    public async Task<NewSecret> CreateTokenAsync(string name, string actor, CancellationToken ct)
    {
        var (token, hash) = EnrollmentTokens.Create();
        var stored = await store.AddTokenAsync(name, hash, ct);
        return new NewSecret(stored.Id, stored.Name, token);
    }

    public Task<bool> RevokeTokenAsync(long tokenId, string actor, CancellationToken ct) =>
        throw new NotSupportedException("the fake store keeps no revocations");

    public Task<IReadOnlyList<AgentView>> ListAgentsAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<AgentView>>([]);
}
