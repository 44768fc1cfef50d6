using Fleet.Server.Ingest;
using Fleet.Web.Data;

namespace Fleet.Server.Live;

public static class LiveServiceCollectionExtensions
{
    /// <summary>The live bus (told by ingest of each committed snapshot), the SignalR hub and its publisher.</summary>
    public static IServiceCollection AddLive(this IServiceCollection services)
    {
        services.AddSingleton<LiveBus>();
        services.AddSingleton<ILiveFeed>(sp => sp.GetRequiredService<LiveBus>());
        services.AddSingleton<IStoredSnapshotObserver>(sp => sp.GetRequiredService<LiveBus>());
        services.AddSignalR(hub => hub.MaximumReceiveMessageSize = 32 * 1024);
        services.AddHostedService<HubPublisher>();
        return services;
    }

    public static IEndpointRouteBuilder MapLive(this IEndpointRouteBuilder endpoints)
    {
        // Every hub method reads: viewers and up (the hub class carries the same policy).
        endpoints.MapHub<FleetHub>(FleetHub.Path).RequireAuthorization(FleetPolicies.View);
        return endpoints;
    }
}
