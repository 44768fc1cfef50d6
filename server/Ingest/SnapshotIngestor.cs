using Fleet.Contracts.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Ingest;

/// <summary>
/// One agent stream from Hello to its end: authenticates the enrollment token, registers the agent, answers
/// Welcome, then validates, stores and acknowledges each snapshot in the order it came. A snapshot that is
/// wrong gets a Rejection and the stream goes on; when storage fails the call ends with Unavailable before
/// the snapshot is acknowledged, so the agent keeps it in its spool and sends it again. Configuration
/// published while the stream is open is pushed to the agent. A plain class: the gRPC service only adapts to it.
/// </summary>
public sealed class SnapshotIngestor
{
    private readonly IIngestStore _store;
    private readonly SnapshotValidator _validator;
    private readonly AgentConfigPublisher _config;
    private readonly AgentStreams _streams;
    private readonly IngestOptions _options;
    private readonly ILogger _logger;

    public SnapshotIngestor(
        IIngestStore store,
        SnapshotValidator validator,
        AgentConfigPublisher config,
        AgentStreams streams,
        IOptions<IngestOptions> options,
        ILogger<SnapshotIngestor> logger)
    {
        _store = store;
        _validator = validator;
        _config = config;
        _streams = streams;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Serves one stream until the agent ends it, the call is cancelled, or it fails with an <see cref="RpcException"/>.</summary>
    /// <param name="peer">The agent's address, for logs and the agent's record.</param>
    public async Task RunAsync(
        IAsyncStreamReader<AgentMessage> requests,
        IServerStreamWriter<ServerMessage> responses,
        string peer,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(responses);
        if (!await requests.MoveNext(ct).ConfigureAwait(false))
        {
            _logger.StreamRefused(peer, "closed before hello");
            throw new RpcException(new Status(StatusCode.InvalidArgument, "first message must be hello"));
        }
        if (requests.Current.BodyCase != AgentMessage.BodyOneofCase.Hello)
        {
            _logger.StreamRefused(peer, $"first message was {requests.Current.BodyCase}, not hello");
            throw new RpcException(new Status(StatusCode.InvalidArgument, "first message must be hello"));
        }
        var hello = requests.Current.Hello;
        var token = await AuthenticateAsync(hello, peer, ct).ConfigureAwait(false);
        if (SnapshotValidator.ValidateHello(hello) is { } problem)
        {
            _logger.HelloRefused(peer, SnapshotValidator.Shorten(hello.AgentId), SnapshotValidator.Shorten(hello.Host?.Hostname), problem.Field, problem.Reason);
            throw new RpcException(new Status(StatusCode.InvalidArgument, problem.ToString()));
        }

        using var lease = await _streams.ClaimAsync(hello.AgentId, _options.TakeoverTimeout, ct).ConfigureAwait(false);
        if (lease.ReplacedAnother)
        {
            _logger.StreamReplaced(hello.AgentId);
        }
        // The server stopping (AgentStreams.Stopping) ends the stream instead of holding the shutdown up.
        using var session = CancellationTokenSource.CreateLinkedTokenSource(ct, lease.Replaced, _streams.Stopping);
        try
        {
            await RunSessionAsync(hello, token, requests, responses, peer, session.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (lease.Replaced.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Aborted, "a newer stream of this agent replaced this one"));
        }
        catch (OperationCanceledException) when (_streams.Stopping.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            // Whatever was not acknowledged stays in the agent's spool and is sent again after the restart.
            throw new RpcException(new Status(StatusCode.Unavailable, "the server is shutting down"));
        }
    }

    private async Task<EnrollmentToken> AuthenticateAsync(Hello hello, string peer, CancellationToken ct)
    {
        string? why = null;
        EnrollmentToken? token = null;
        if (!EnrollmentTokens.IsPlausible(hello.EnrollmentToken))
        {
            why = "missing or malformed";
        }
        else
        {
            try
            {
                token = await _store.FindTokenAsync(EnrollmentTokens.Hash(hello.EnrollmentToken), ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsStorageFailure(ex, ct))
            {
                throw StorageUnavailable(ex, "checking the enrollment token", hello.AgentId);
            }
            why = token is null ? "unknown" : token.Revoked ? $"revoked token '{token.Name}'" : null;
        }
        if (why is not null || token is null)
        {
            _logger.TokenRefused(why ?? "unknown", SnapshotValidator.Shorten(hello.AgentId), SnapshotValidator.Shorten(hello.Host?.Hostname), peer);
            throw new RpcException(new Status(StatusCode.Unauthenticated, "enrollment token refused"));
        }
        return token;
    }

    private async Task RunSessionAsync(
        Hello hello,
        EnrollmentToken token,
        IAsyncStreamReader<AgentMessage> requests,
        IServerStreamWriter<ServerMessage> responses,
        string peer,
        CancellationToken ct)
    {
        AgentRegistration agent;
        try
        {
            agent = await _store.RegisterAgentAsync(new AgentHello(hello.AgentId, hello.Host, hello.AgentVersion, token.Id, peer), ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStorageFailure(ex, ct))
        {
            throw StorageUnavailable(ex, "registering the agent", hello.AgentId);
        }

        using var subscription = _config.Subscribe();
        using var writer = new SerialWriter(responses);
        await writer.WriteAsync(
            new ServerMessage { Welcome = new Welcome { LastCommittedSequence = agent.LastCommittedSequence, Config = subscription.Current } },
            ct).ConfigureAwait(false);
        _logger.AgentConnected(hello.AgentId, hello.Host.Hostname, hello.AgentVersion, token.Name, peer, agent.LastCommittedSequence);

        var counts = new Counts();
        using var stopPush = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var push = PushConfigAsync(subscription, writer, hello.AgentId, stopPush.Token);
        try
        {
            while (await requests.MoveNext(ct).ConfigureAwait(false))
            {
                var message = requests.Current;
                switch (message.BodyCase)
                {
                    case AgentMessage.BodyOneofCase.Snapshot:
                        await IngestAsync(hello, agent, message.Snapshot, writer, counts, ct).ConfigureAwait(false);
                        break;
                    case AgentMessage.BodyOneofCase.Hello:
                        throw new RpcException(new Status(StatusCode.InvalidArgument, "hello may only be sent once, as the first message"));
                    default:
                        // A message kind from a later contract revision: nothing to do with it here.
                        break;
                }
            }
        }
        finally
        {
            await stopPush.CancelAsync().ConfigureAwait(false);
            await push.ConfigureAwait(false);
            _logger.AgentDisconnected(hello.AgentId, hello.Host.Hostname, counts.Acked, counts.Rejected);
        }
    }

    private async Task IngestAsync(Hello hello, AgentRegistration agent, Snapshot snapshot, SerialWriter writer, Counts counts, CancellationToken ct)
    {
        if (_validator.Validate(snapshot, hello.Host.MachineId) is { } problem)
        {
            counts.Rejected++;
            _logger.SnapshotRejected(snapshot.Sequence, hello.AgentId, hello.Host.Hostname, problem.Field, problem.Reason);
            await writer.WriteAsync(
                new ServerMessage { Rejection = new Rejection { Sequence = snapshot.Sequence, Field = problem.Field, Reason = problem.Reason } },
                ct).ConfigureAwait(false);
            return;
        }
        StoreOutcome outcome;
        try
        {
            outcome = await _store.StoreSnapshotAsync(agent, snapshot, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStorageFailure(ex, ct))
        {
            throw StorageUnavailable(ex, $"storing snapshot {snapshot.Sequence}", hello.AgentId);
        }
        _logger.SnapshotStored(snapshot.Sequence, hello.AgentId, outcome == StoreOutcome.Duplicate ? "duplicate" : "stored");
        await writer.WriteAsync(
            new ServerMessage { Ack = new Ack { Sequence = snapshot.Sequence, Duplicate = outcome == StoreOutcome.Duplicate } },
            ct).ConfigureAwait(false);
        counts.Acked++;
    }

    private async Task PushConfigAsync(AgentConfigPublisher.Subscription subscription, SerialWriter writer, string agentId, CancellationToken ct)
    {
        try
        {
            await foreach (var config in subscription.Updates.ReadAllAsync(ct).ConfigureAwait(false))
            {
                await writer.WriteAsync(new ServerMessage { Config = config }, ct).ConfigureAwait(false);
                _logger.ConfigPushed(agentId);
            }
        }
        catch (OperationCanceledException)
        {
            // The stream ended.
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            // The response stream is gone; the session ends on its own through the request stream.
        }
    }

    /// <summary>Anything storage throws, except the cancellation of this call.</summary>
    private static bool IsStorageFailure(Exception ex, CancellationToken ct) =>
        !(ex is OperationCanceledException && ct.IsCancellationRequested) && ex is not RpcException;

    private RpcException StorageUnavailable(Exception ex, string doing, string agentId)
    {
        _logger.StorageFailed(ex, doing, SnapshotValidator.Shorten(agentId));
        return new RpcException(new Status(StatusCode.Unavailable, $"storage unavailable: {SnapshotValidator.Shorten(ex.Message, 200)}"));
    }

    private sealed class Counts
    {
        public long Acked { get; set; }

        public long Rejected { get; set; }
    }

    /// <summary>Acknowledgements and pushed configuration share the response stream, which takes one write at a time.</summary>
    private sealed class SerialWriter(IServerStreamWriter<ServerMessage> responses) : IDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);

        public void Dispose() => _gate.Dispose();

        public async Task WriteAsync(ServerMessage message, CancellationToken ct)
        {
            await _gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await responses.WriteAsync(message, ct).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
