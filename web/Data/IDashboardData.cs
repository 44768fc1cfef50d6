namespace Fleet.Web.Data;

/// <summary>
/// What the pages read. The server implements it over its stored data (SQL answered from an index or a rollup);
/// the pages never touch storage or the wire themselves. Every method is bounded by its token.
/// </summary>
public interface IDashboardData
{
    /// <summary>Every known host with its latest figures, and the service instances with the least fd headroom.</summary>
    Task<FleetOverview> OverviewAsync(CancellationToken ct);

    /// <summary>One host: its latest snapshot in detail and its series over the window; null when no such host sent a snapshot.</summary>
    Task<HostView?> HostAsync(string hostName, TimeWindow window, CancellationToken ct);

    /// <summary>The host's latest snapshot in detail, without series (the host page reloads it as snapshots arrive).</summary>
    Task<HostDetail?> HostDetailAsync(string hostName, TimeWindow window, CancellationToken ct);

    /// <summary>One service across every host it runs on, with series per instance; null when no host runs it.</summary>
    Task<ServiceView?> ServiceAsync(string serviceName, TimeWindow window, CancellationToken ct);
}

/// <summary>
/// Live push of stored snapshots: the server publishes the summary of every snapshot once it is committed.
/// A subscriber gets an <see cref="IDisposable"/> that ends the subscription; the handler is called off the
/// ingest path (a slow handler delays only its own later updates, never ingest).
/// </summary>
public interface ILiveFeed
{
    IDisposable Subscribe(LiveTopic topic, Func<LiveSnapshot, Task> onSnapshot);
}

/// <summary>What a subscriber follows: every host (the fleet), one host by name, or one service by name.</summary>
public sealed record LiveTopic(LiveTopicKind Kind, string? Name)
{
    public static LiveTopic Fleet { get; } = new(LiveTopicKind.Fleet, null);

    public static LiveTopic Host(string name) => new(LiveTopicKind.Host, name);

    public static LiveTopic Service(string name) => new(LiveTopicKind.Service, name);

    /// <summary>Whether a snapshot of this host, with these services, is of this topic.</summary>
    public bool Matches(LiveSnapshot snapshot) => Kind switch
    {
        LiveTopicKind.Fleet => true,
        LiveTopicKind.Host => string.Equals(snapshot.Host.Name, Name, StringComparison.Ordinal),
        LiveTopicKind.Service => snapshot.Services.Any(s => string.Equals(s.Name, Name, StringComparison.Ordinal)),
        _ => false,
    };
}

public enum LiveTopicKind
{
    Fleet,
    Host,
    Service,
}
