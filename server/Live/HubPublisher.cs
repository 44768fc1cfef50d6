using Fleet.Web.Data;
using Microsoft.AspNetCore.SignalR;

namespace Fleet.Server.Live;

/// <summary>Relays every summary of the live bus to the hub's groups: the fleet, the snapshot's host and each of its services.</summary>
public sealed class HubPublisher(ILiveFeed feed, IHubContext<FleetHub> hub) : IHostedService
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = feed.Subscribe(LiveTopic.Fleet, PublishAsync);
        return Task.CompletedTask;
    }

    private Task PublishAsync(LiveSnapshot summary)
    {
        var groups = new List<string>(2 + summary.Services.Count)
        {
            FleetHub.GroupOf(LiveTopic.Fleet),
            FleetHub.GroupOf(LiveTopic.Host(summary.Host.Name)),
        };
        groups.AddRange(summary.Services.Select(s => FleetHub.GroupOf(LiveTopic.Service(s.Name))));
        // A connection in several of these groups receives the summary once per group it is in.
        return hub.Clients.Groups(groups).SendAsync(FleetHub.SnapshotStoredMethod, summary);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }
}
