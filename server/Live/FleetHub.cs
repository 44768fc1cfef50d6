using Fleet.Web.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Fleet.Server.Live;

/// <summary>
/// The SignalR hub at <see cref="Path"/> for tools outside the server (signed in as a viewer or more: the cookie, or a
/// personal API token as <c>?access_token=</c>): a client calls SubscribeFleet,
/// SubscribeHost(name) or SubscribeService(name) (and the Unsubscribe* twins), then receives
/// <see cref="SnapshotStoredMethod"/> with a <see cref="LiveSnapshot"/> (JSON) for each stored snapshot of its topics.
/// </summary>
[Authorize(Policy = FleetPolicies.View)]
public sealed class FleetHub : Hub
{
    public const string Path = "/hubs/fleet";
    public const string SnapshotStoredMethod = "snapshotStored";
    public const int MaxNameLength = 256;

    public Task SubscribeFleet() => Groups.AddToGroupAsync(Context.ConnectionId, GroupOf(LiveTopic.Fleet), Context.ConnectionAborted);

    public Task UnsubscribeFleet() => Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupOf(LiveTopic.Fleet), Context.ConnectionAborted);

    public Task SubscribeHost(string name) => Groups.AddToGroupAsync(Context.ConnectionId, GroupOf(LiveTopic.Host(Checked(name, "host"))), Context.ConnectionAborted);

    public Task UnsubscribeHost(string name) => Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupOf(LiveTopic.Host(Checked(name, "host"))), Context.ConnectionAborted);

    public Task SubscribeService(string name) => Groups.AddToGroupAsync(Context.ConnectionId, GroupOf(LiveTopic.Service(Checked(name, "service"))), Context.ConnectionAborted);

    public Task UnsubscribeService(string name) => Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupOf(LiveTopic.Service(Checked(name, "service"))), Context.ConnectionAborted);

    public static string GroupOf(LiveTopic topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        return topic.Kind switch
        {
            LiveTopicKind.Fleet => "fleet",
            LiveTopicKind.Host => "host:" + topic.Name,
            _ => "service:" + topic.Name,
        };
    }

    private static string Checked(string? name, string what) =>
        string.IsNullOrWhiteSpace(name) ? throw new HubException($"a {what} name is required")
        : name.Length > MaxNameLength ? throw new HubException($"a {what} name has at most {MaxNameLength} characters ({name.Length} given)")
        : name;
}
