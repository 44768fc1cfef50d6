using Fleet.Web.Data;

namespace Fleet.Web.Tests.Fakes;

/// <summary>Alerts the test sets; records the host each ActiveAsync asked for and every history query.</summary>
public sealed class FakeAlertData : IAlertData
{
    private readonly Lock _gate = new();
    private List<AlertView> _active = [];

    public List<AlertView> History { get; } = [];

    public List<string?> ActiveHosts { get; } = [];

    public List<AlertHistoryQuery> HistoryQueries { get; } = [];

    public Exception? Failure { get; set; }

    public IReadOnlyList<AlertView> Active
    {
        get
        {
            lock (_gate)
            {
                return _active;
            }
        }
        set
        {
            lock (_gate)
            {
                _active = [.. value];
            }
        }
    }

    public Task<IReadOnlyList<AlertView>> ActiveAsync(string? hostName, CancellationToken ct)
    {
        lock (_gate)
        {
            ActiveHosts.Add(hostName);
        }
        return Failure is not null
            ? Task.FromException<IReadOnlyList<AlertView>>(Failure)
            : Task.FromResult<IReadOnlyList<AlertView>>([.. Active.Where(a => hostName is null || a.Host == hostName)]);
    }

    public Task<IReadOnlyList<AlertView>> HistoryAsync(AlertHistoryQuery query, CancellationToken ct)
    {
        lock (_gate)
        {
            HistoryQueries.Add(query);
        }
        return Failure is not null
            ? Task.FromException<IReadOnlyList<AlertView>>(Failure)
            : Task.FromResult<IReadOnlyList<AlertView>>([.. History.Where(a => (query.Host is null || a.Host == query.Host) && (query.Severity is null || a.Severity == query.Severity))]);
    }
}
