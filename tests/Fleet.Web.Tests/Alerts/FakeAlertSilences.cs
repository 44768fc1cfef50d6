using Fleet.Web.Data;

namespace Fleet.Web.Tests.Alerts;

/// <summary>Silences kept in memory, validated like the server does; records every create and end with its actor.</summary>
public sealed class FakeAlertSilences(TimeProvider time) : IAlertSilences
{
    private readonly Lock _gate = new();
    private readonly List<AlertSilence> _silences = [];
    private long _nextId = 1;

    public List<(AlertSilenceDraft Draft, string Actor)> Created { get; } = [];

    public List<(long Id, string Actor)> Ended { get; } = [];

    public AlertSilence Add(long? ruleId, string? ruleName, string? hostPattern, TimeSpan length, string reason, string createdBy)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var silence = new AlertSilence(_nextId++, ruleId, ruleName, hostPattern, null, null, now, now + length, reason, createdBy, now, null, null);
            _silences.Add(silence);
            return silence;
        }
    }

    public Task<IReadOnlyList<AlertSilence>> ListAsync(bool includeOver, int limit, CancellationToken ct)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            return Task.FromResult<IReadOnlyList<AlertSilence>>([.. _silences.Where(s => includeOver || s.IsActiveAt(now)).Take(limit)]);
        }
    }

    public Task<AlertSilence?> GetAsync(long id, CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult(_silences.Find(s => s.Id == id));
        }
    }

    public Task<AlertSilence> CreateAsync(AlertSilenceDraft draft, string actor, CancellationToken ct)
    {
        var errors = draft.Validate();
        if (errors.Count > 0)
        {
            throw new AlertSilenceInvalidException(errors);
        }
        lock (_gate)
        {
            Created.Add((draft, actor));
            var now = time.GetUtcNow();
            var silence = new AlertSilence(_nextId++, draft.RuleId, null, draft.HostPattern, draft.ServicePattern, null, now, now + draft.Duration, draft.Reason, actor, now, null, null);
            _silences.Add(silence);
            return Task.FromResult(silence);
        }
    }

    public Task<AlertSilence?> EndAsync(long id, string actor, CancellationToken ct)
    {
        lock (_gate)
        {
            int i = _silences.FindIndex(s => s.Id == id);
            if (i < 0)
            {
                return Task.FromResult<AlertSilence?>(null);
            }
            Ended.Add((id, actor));
            _silences[i] = _silences[i] with { EndedAt = time.GetUtcNow(), EndedBy = actor };
            return Task.FromResult<AlertSilence?>(_silences[i]);
        }
    }
}
