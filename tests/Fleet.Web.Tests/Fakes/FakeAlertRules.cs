using Fleet.Web.Data;

namespace Fleet.Web.Tests.Fakes;

/// <summary>Rules kept in memory, validated like the server does; records every change with its actor.</summary>
public sealed class FakeAlertRules(TimeProvider time) : IAlertRules
{
    private readonly Lock _gate = new();
    private readonly List<AlertRule> _rules = [];
    private long _nextId = 1;

    public List<(string Action, long? Id, AlertRuleDraft? Draft, string Actor)> Calls { get; } = [];

    public List<AuditEntry> Audit { get; } = [];

    /// <summary>When set, create and update refuse with these errors (the server's own checks).</summary>
    public IReadOnlyList<string>? ServerErrors { get; set; }

    public AlertRule Add(AlertRuleDraft draft)
    {
        lock (_gate)
        {
            var rule = new AlertRule(_nextId++, draft, time.GetUtcNow(), time.GetUtcNow(), "seed");
            _rules.Add(rule);
            return rule;
        }
    }

    public Task<IReadOnlyList<AlertRule>> ListAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<AlertRule>>([.. _rules]);
        }
    }

    public Task<AlertRule?> GetAsync(long id, CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult(_rules.FirstOrDefault(r => r.Id == id));
        }
    }

    public Task<AlertRule> CreateAsync(AlertRuleDraft draft, string actor, CancellationToken ct)
    {
        lock (_gate)
        {
            Calls.Add(("create", null, draft, actor));
            Check(draft);
            var rule = new AlertRule(_nextId++, draft, time.GetUtcNow(), time.GetUtcNow(), actor);
            _rules.Add(rule);
            return Task.FromResult(rule);
        }
    }

    public Task<AlertRule?> UpdateAsync(long id, AlertRuleDraft draft, string actor, CancellationToken ct)
    {
        lock (_gate)
        {
            Calls.Add(("update", id, draft, actor));
            Check(draft);
            var i = _rules.FindIndex(r => r.Id == id);
            if (i < 0)
            {
                return Task.FromResult<AlertRule?>(null);
            }
            _rules[i] = _rules[i] with { Draft = draft, UpdatedAt = time.GetUtcNow(), UpdatedBy = actor };
            return Task.FromResult<AlertRule?>(_rules[i]);
        }
    }

    public Task<bool> DeleteAsync(long id, string actor, CancellationToken ct)
    {
        lock (_gate)
        {
            Calls.Add(("delete", id, null, actor));
            return Task.FromResult(_rules.RemoveAll(r => r.Id == id) > 0);
        }
    }

    public Task<IReadOnlyList<AuditEntry>> AuditAsync(int limit, CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<AuditEntry>>([.. Audit.Take(limit)]);
        }
    }

    private void Check(AlertRuleDraft draft)
    {
        var errors = ServerErrors ?? draft.Validate();
        if (errors.Count > 0)
        {
            throw new AlertRuleInvalidException(errors);
        }
    }
}
