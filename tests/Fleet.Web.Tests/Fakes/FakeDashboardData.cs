using Fleet.Web.Data;

namespace Fleet.Web.Tests.Fakes;

/// <summary>Answers what the test set; an unknown name answers null, as the server does. Counts the calls.</summary>
public sealed class FakeDashboardData : IDashboardData
{
    private int _overviewCalls;

    public FleetOverview Overview { get; set; } = new([], [], TimeSpan.FromSeconds(10));

    public Dictionary<string, HostView> Hosts { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, ServiceView> Services { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, every call throws it (the port failing).</summary>
    public Exception? Failure { get; set; }

    public int OverviewCalls => Volatile.Read(ref _overviewCalls);

    public List<TimeWindow> HostWindows { get; } = [];

    public Task<FleetOverview> OverviewAsync(CancellationToken ct)
    {
        Interlocked.Increment(ref _overviewCalls);
        return Failure is null ? Task.FromResult(Overview) : Task.FromException<FleetOverview>(Failure);
    }

    public Task<HostView?> HostAsync(string hostName, TimeWindow window, CancellationToken ct)
    {
        lock (HostWindows)
        {
            HostWindows.Add(window);
        }
        return Failure is null ? Task.FromResult(Hosts.GetValueOrDefault(hostName)) : Task.FromException<HostView?>(Failure);
    }

    public Task<HostDetail?> HostDetailAsync(string hostName, TimeWindow window, CancellationToken ct) =>
        Failure is null ? Task.FromResult(Hosts.GetValueOrDefault(hostName)?.Detail) : Task.FromException<HostDetail?>(Failure);

    public Task<ServiceView?> ServiceAsync(string serviceName, TimeWindow window, CancellationToken ct) =>
        Failure is null ? Task.FromResult(Services.GetValueOrDefault(serviceName)) : Task.FromException<ServiceView?>(Failure);
}
