using Microsoft.Extensions.Logging;

namespace Fleet.Agent.Streaming;

/// <summary>What the agent's spool, stream and loop say, as source-generated log messages.</summary>
internal static partial class StreamingLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "new agent id {AgentId} in {StateDirectory}")]
    public static partial void NewAgentId(this ILogger logger, string agentId, string stateDirectory);

    [LoggerMessage(Level = LogLevel.Information, Message = "spool holds {Count} unacknowledged snapshot(s) ({Oldest}..{Newest}, {Bytes} bytes)")]
    public static partial void SpoolLoaded(this ILogger logger, int count, ulong oldest, ulong newest, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "spool full ({MaxSnapshots} snapshots / {MaxBytes} bytes): dropped the oldest unsent snapshot(s) {First}..{Last}; {Total} dropped since start")]
    public static partial void SpoolFull(this ILogger logger, int maxSnapshots, long maxBytes, ulong first, ulong last, long total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not delete spool file {Path}: {Error}")]
    public static partial void SpoolDeleteFailed(this ILogger logger, string path, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "skipped damaged spool file {Path}: {Problem}; {Total} damaged since start")]
    public static partial void SpoolFileDamaged(this ILogger logger, string path, string problem, long total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path} holds no valid agent_id: starting a new series under a new agent id")]
    public static partial void StateWithoutAgentId(this ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "enrollment token refused by {Server}: {Detail}; retrying in {DelaySeconds:F1} s (fix --token, --token-file or FLEET_TOKEN, or enroll the host again)")]
    public static partial void TokenRefused(this ILogger logger, Uri server, string detail, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "the server's certificate SHA-256 {Presented} does not match the pinned {Pinned} (--server-fingerprint, FLEET_SERVER_FINGERPRINT): refused {Server} before sending anything; retrying in {DelaySeconds:F1} s, {Count} snapshot(s) spooled. If the server's certificate was replaced or renewed, pin the fingerprint it logs at start")]
    public static partial void ServerCertificateRefused(this ILogger logger, string presented, string pinned, Uri server, double delaySeconds, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "the certificate of {Server} (SHA-256 {Presented}) is not trusted ({Errors}): refused before sending anything; retrying in {DelaySeconds:F1} s, {Count} snapshot(s) spooled. Trust its CA with --ca-file, or, if the server logged this fingerprint at start, pin it with --server-fingerprint")]
    public static partial void ServerCertificateUntrusted(this ILogger logger, Uri server, string presented, System.Net.Security.SslPolicyErrors errors, double delaySeconds, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "stream to {Server} down ({Failure}); reconnecting in {DelaySeconds:F1} s, {Count} snapshot(s) spooled")]
    public static partial void StreamDown(this ILogger logger, Uri server, string failure, double delaySeconds, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "server {Server} still unreachable ({Failure}); attempt {Attempt}, next in {DelaySeconds:F1} s, {Count} snapshot(s) spooled")]
    public static partial void StillUnreachable(this ILogger logger, Uri server, string failure, int attempt, double delaySeconds, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "connected to {Server} as agent {AgentId}: the server has everything through sequence {Committed} ({AlreadyStored} spooled snapshot(s) dropped as already stored), {Count} to send")]
    public static partial void Connected(this ILogger logger, Uri server, string agentId, ulong committed, int alreadyStored, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "snapshot {Sequence} rejected by the server ({Field}: {Reason}); removed from the spool, it will not be sent again")]
    public static partial void SnapshotRejected(this ILogger logger, ulong sequence, string field, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "ignored a {Kind} message from the server")]
    public static partial void IgnoredMessage(this ILogger logger, Fleet.Contracts.V1.ServerMessage.BodyOneofCase kind);

    [LoggerMessage(Level = LogLevel.Debug, Message = "spooled snapshot {Sequence}: {Processes} processes, {Services} services; {Count} waiting")]
    public static partial void Spooled(this ILogger logger, ulong sequence, int processes, int services, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "snapshot failed ({Failed} so far): {Error}")]
    public static partial void SnapshotFailed(this ILogger logger, long failed, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the server asked for an interval of {Requested}; using {Interval} (allowed: {Min}..{Max})")]
    public static partial void IntervalClamped(this ILogger logger, TimeSpan requested, TimeSpan interval, TimeSpan min, TimeSpan max);

    [LoggerMessage(Level = LogLevel.Information, Message = "interval set by the server: {Interval} (was {Previous})")]
    public static partial void IntervalSet(this ILogger logger, TimeSpan interval, TimeSpan previous);

    [LoggerMessage(Level = LogLevel.Information, Message = "grouping rules set by the server: {Count} rule(s)")]
    public static partial void RulesSet(this ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "grouping rules from the server not applied, keeping the previous ones: {Error}")]
    public static partial void RulesRejected(this ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "agent {AgentId} collecting {ProcRoot} every {Interval} into {StateDirectory}, streaming to {Server}")]
    public static partial void AgentStarted(this ILogger logger, string agentId, string procRoot, TimeSpan interval, string stateDirectory, Uri server);

    [LoggerMessage(Level = LogLevel.Information, Message = "agent stopped; {Count} snapshot(s) stay spooled in {StateDirectory}")]
    public static partial void AgentStopped(this ILogger logger, int count, string stateDirectory);
}
