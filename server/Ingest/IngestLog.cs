using Microsoft.Extensions.Logging;

namespace Fleet.Server.Ingest;

internal static partial class IngestLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Enrollment token refused ({Why}) for agent {AgentId} on host {Hostname} from {Peer}")]
    public static partial void TokenRefused(this ILogger logger, string why, string agentId, string hostname, string peer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hello refused from {Peer} (agent {AgentId}, host {Hostname}): {Field}: {Reason}")]
    public static partial void HelloRefused(this ILogger logger, string peer, string agentId, string hostname, string field, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream from {Peer} refused: {Reason}")]
    public static partial void StreamRefused(this ILogger logger, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} (host {Hostname}, agent {AgentVersion}, token {TokenName}) connected from {Peer}; last committed sequence {LastCommitted}")]
    public static partial void AgentConnected(this ILogger logger, string agentId, string hostname, string agentVersion, string tokenName, string peer, ulong lastCommitted);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} opened a new stream: the previous one was closed")]
    public static partial void StreamReplaced(this ILogger logger, string agentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} (host {Hostname}) disconnected after {Acked} acknowledged and {Rejected} rejected snapshots")]
    public static partial void AgentDisconnected(this ILogger logger, string agentId, string hostname, long acked, long rejected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Snapshot {Sequence} of agent {AgentId} (host {Hostname}) rejected: {Field}: {Reason}")]
    public static partial void SnapshotRejected(this ILogger logger, ulong sequence, string agentId, string hostname, string field, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Snapshot {Sequence} of agent {AgentId} stored ({Outcome})")]
    public static partial void SnapshotStored(this ILogger logger, ulong sequence, string agentId, string outcome);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage failed while {Doing} for agent {AgentId}: the stream is closed unacknowledged, the agent will resend")]
    public static partial void StorageFailed(this ILogger logger, Exception exception, string doing, string agentId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Configuration pushed to agent {AgentId}")]
    public static partial void ConfigPushed(this ILogger logger, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection attempts from {Address} refused: over the limit of {Burst} at once and {PerMinute} a minute (Fleet:Ingest:RateLimit); logged once until one is admitted again")]
    public static partial void ConnectsRefused(this ILogger logger, string address, int burst, double perMinute);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} (host {Hostname}) sends snapshots faster than {PerSecond} a second (burst {Burst}, Fleet:Ingest:RateLimit): its stream waits for the limit, nothing is lost")]
    public static partial void SnapshotsThrottled(this ILogger logger, string agentId, string hostname, double perSecond, int burst);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} (host {Hostname}) waited for the snapshot rate limit {Throttled} times on this stream")]
    public static partial void ThrottledOnStream(this ILogger logger, string agentId, string hostname, long throttled);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream of agent {AgentId} (host {Hostname}) from {Peer} cut: its enrollment token '{TokenName}' was revoked")]
    public static partial void StreamRevoked(this ILogger logger, string agentId, string hostname, string peer, string tokenName);
}
