using System.Collections.Concurrent;
using Fleet.Contracts.V1;
using Fleet.Server.Api;

namespace Fleet.Server.Tests.Api;

/// <summary>Answers the API's queries from what the test put in; remembers the series queries asked.</summary>
internal sealed class FakeFleetQueries : IFleetQueries
{
    public ConcurrentDictionary<string, Snapshot> Latest { get; } = new(StringComparer.Ordinal);

    public List<HostSummary> Hosts { get; } = [];

    public ConcurrentQueue<SeriesQuery> SeriesAsked { get; } = new();

    public Task<IReadOnlyList<HostSummary>> ListHostsAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<HostSummary>>([.. Hosts]);

    public Task<Snapshot?> LatestSnapshotAsync(string hostName, CancellationToken ct) =>
        Task.FromResult(Latest.GetValueOrDefault(hostName));

    public Task<SeriesResult?> SeriesAsync(SeriesQuery query, CancellationToken ct)
    {
        SeriesAsked.Enqueue(query);
        if (!Latest.ContainsKey(query.Host))
        {
            return Task.FromResult<SeriesResult?>(null);
        }
        var points = new List<SeriesPoint>();
        for (var t = query.From; t < query.To; t += query.Step)
        {
            points.Add(new SeriesPoint(t, points.Count % 3 == 2 ? null : points.Count));
        }
        return Task.FromResult<SeriesResult?>(new SeriesResult(query.Host, query.Service, query.Metric, query.Step, "raw", points));
    }
}
