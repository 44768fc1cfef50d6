using Fleet.Web.Data;

namespace Fleet.Web.Tests.Fakes;

/// <summary>Projections the test sets; each call answers those of the host, the service, or the leaks, as the server would.</summary>
public sealed class FakeProjectionData : IProjectionData
{
    private readonly Lock _gate = new();
    private List<ProjectionView> _all = [];

    public Exception? Failure { get; set; }

    public IReadOnlyList<ProjectionView> All
    {
        get
        {
            lock (_gate)
            {
                return _all;
            }
        }
        set
        {
            lock (_gate)
            {
                _all = [.. value];
            }
        }
    }

    public Task<IReadOnlyList<ProjectionView>> HostAsync(string hostName, CancellationToken ct) =>
        Answer(All.Where(p => p.Host == hostName));

    public Task<IReadOnlyList<ProjectionView>> ServiceAsync(string serviceName, CancellationToken ct) =>
        Answer(All.Where(p => p.Service == serviceName));

    public Task<IReadOnlyList<ProjectionView>> LeaksAsync(int limit, CancellationToken ct) =>
        Answer(All.Where(p => p.Pid is null && p.Verdict == LeakVerdict.Leak).OrderBy(p => p.TimeToSoftLimit ?? TimeSpan.MaxValue).Take(limit));

    private Task<IReadOnlyList<ProjectionView>> Answer(IEnumerable<ProjectionView> projections) =>
        Failure is null ? Task.FromResult<IReadOnlyList<ProjectionView>>([.. projections]) : Task.FromException<IReadOnlyList<ProjectionView>>(Failure);
}
