using Fleet.Web.Data;

namespace Fleet.Web.Tests.Fakes;

/// <summary>API tokens in memory, each owned by one user id.</summary>
public sealed class FakeApiTokens(TimeProvider time) : IApiTokens
{
    private readonly Lock _lock = new();
    private readonly List<(string UserId, ApiTokenView Token)> _tokens = [];
    private long _next;

    public List<(string Action, string Name, string Actor)> Changes { get; } = [];

    public ApiTokenView Add(string userId, string name, DateTimeOffset? expiresAt = null, DateTimeOffset? revokedAt = null, DateTimeOffset? lastUsedAt = null)
    {
        lock (_lock)
        {
            var token = new ApiTokenView(++_next, name, time.GetUtcNow(), expiresAt, lastUsedAt, revokedAt);
            _tokens.Add((userId, token));
            return token;
        }
    }

    public Task<IReadOnlyList<ApiTokenView>> ListAsync(string userId, CancellationToken ct)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<ApiTokenView>>([.. _tokens.Where(t => t.UserId == userId).Select(t => t.Token)]);
        }
    }

    public Task<NewSecret> CreateAsync(string userId, string name, TimeSpan? lifetime, string actor, CancellationToken ct)
    {
        lock (_lock)
        {
            if (name.Length > 100)
            {
                throw new AccessInvalidException("name", "At most 100 characters.");
            }
            if (_tokens.Any(t => t.UserId == userId && t.Token.Name == name && t.Token.RevokedAt is null))
            {
                throw new AccessInvalidException("name", $"You have a token named {name} already.");
            }
            var now = time.GetUtcNow();
            var token = new ApiTokenView(++_next, name, now, lifetime is { } l ? now + l : null, null, null);
            _tokens.Add((userId, token));
            Changes.Add(("created", name, actor));
            return Task.FromResult(new NewSecret(token.Id, name, $"fleet_pat_secret{token.Id}"));
        }
    }

    public Task<bool> RevokeAsync(string userId, long tokenId, string actor, CancellationToken ct)
    {
        lock (_lock)
        {
            int i = _tokens.FindIndex(t => t.UserId == userId && t.Token.Id == tokenId);
            if (i < 0)
            {
                return Task.FromResult(false);
            }
            _tokens[i] = (userId, _tokens[i].Token with { RevokedAt = time.GetUtcNow() });
            Changes.Add(("revoked", _tokens[i].Token.Name, actor));
            return Task.FromResult(true);
        }
    }
}
