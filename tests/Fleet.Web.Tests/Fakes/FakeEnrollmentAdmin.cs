using Fleet.Web.Data;

namespace Fleet.Web.Tests.Fakes;

/// <summary>Enrollment tokens and agents in memory; revoking marks the token's agents disconnected, as the server cuts them.</summary>
public sealed class FakeEnrollmentAdmin(TimeProvider time) : IEnrollmentAdmin
{
    private readonly Lock _lock = new();
    private readonly List<EnrollmentTokenView> _tokens = [];
    private readonly List<AgentView> _agents = [];
    private long _next;

    public List<(string Action, string Name, string Actor)> Changes { get; } = [];

    public EnrollmentTokenView AddToken(string name, string? createdBy = "root")
    {
        lock (_lock)
        {
            var token = new EnrollmentTokenView(++_next, name, time.GetUtcNow(), createdBy, null, 0);
            _tokens.Add(token);
            return token;
        }
    }

    public AgentView AddAgent(string hostName, EnrollmentTokenView token, bool connected = true, string version = "1.4.0")
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            var agent = new AgentView($"agent-{hostName}", hostName, version, "10.0.0.7:51234", now.AddDays(-3), now, token.Id, token.Name, false, connected);
            _agents.Add(agent);
            int i = _tokens.FindIndex(t => t.Id == token.Id);
            _tokens[i] = _tokens[i] with { Agents = _tokens[i].Agents + 1 };
            return agent;
        }
    }

    public Task<IReadOnlyList<EnrollmentTokenView>> ListTokensAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<EnrollmentTokenView>>([.. _tokens]);
        }
    }

    public Task<NewSecret> CreateTokenAsync(string name, string actor, CancellationToken ct)
    {
        lock (_lock)
        {
            if (name.Length > 100)
            {
                throw new AccessInvalidException("name", "At most 100 characters.");
            }
            var token = new EnrollmentTokenView(++_next, name, time.GetUtcNow(), actor, null, 0);
            _tokens.Add(token);
            Changes.Add(("created", name, actor));
            return Task.FromResult(new NewSecret(token.Id, name, $"fleet_enroll_secret{token.Id}"));
        }
    }

    public Task<bool> RevokeTokenAsync(long tokenId, string actor, CancellationToken ct)
    {
        lock (_lock)
        {
            int i = _tokens.FindIndex(t => t.Id == tokenId);
            if (i < 0)
            {
                return Task.FromResult(false);
            }
            _tokens[i] = _tokens[i] with { RevokedAt = time.GetUtcNow() };
            for (int a = 0; a < _agents.Count; a++)
            {
                if (_agents[a].TokenId == tokenId)
                {
                    _agents[a] = _agents[a] with { Connected = false, TokenRevoked = true };
                }
            }
            Changes.Add(("revoked", _tokens[i].Name, actor));
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<AgentView>> ListAgentsAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<AgentView>>([.. _agents.OrderByDescending(a => a.LastSeen)]);
        }
    }
}
