using System.Threading.Channels;
using Fleet.Contracts.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Ingest;

/// <summary>
/// One agent stream from Hello to its end: authenticates the enrollment token, registers the agent, answers
/// Welcome, then validates each snapshot and hands it to the <see cref="SnapshotBatcher"/>, which stores it in a
/// transaction shared with other streams' snapshots. Up to <see cref="SnapshotBatchingOptions.MaxInFlightPerStream"/>
/// snapshots of the stream are in flight at once; they are stored and acknowledged in the order they came. A
/// snapshot that is wrong gets a Rejection (in its place in that order) and the stream goes on; when storage fails
/// the call ends with Unavailable before the snapshot is acknowledged, and nothing after it is stored, so the agent
/// keeps them in its spool and sends them again. Configuration published while the stream is open is pushed to the
/// agent. Each snapshot first waits for its agent's rate limit (<see cref="AgentSnapshotLimiter"/>): back-pressure,
/// never a refusal. Revoking the stream's enrollment token (<see cref="AgentStreams.Revoke"/>) ends the call at once
/// with Unauthenticated, "enrollment token revoked": what was acknowledged is stored, what was in flight is stored
/// whole or not at all (one transaction per batch) and, unacknowledged, stays in the agent's spool. A plain class:
/// the gRPC service only adapts to it.
/// </summary>
public sealed class SnapshotIngestor
{
    private readonly IIngestStore _store;
    private readonly SnapshotBatcher _batcher;
    private readonly SnapshotValidator _validator;
    private readonly AgentConfigPublisher _config;
    private readonly AgentStreams _streams;
    private readonly AgentSnapshotLimiter _limiter;
    private readonly IngestOptions _options;
    private readonly ILogger _logger;

    public SnapshotIngestor(
        IIngestStore store,
        SnapshotBatcher batcher,
        SnapshotValidator validator,
        AgentConfigPublisher config,
        AgentStreams streams,
        AgentSnapshotLimiter limiter,
        IOptions<IngestOptions> options,
        ILogger<SnapshotIngestor> logger)
    {
        _store = store;
        _batcher = batcher;
        _validator = validator;
        _config = config;
        _streams = streams;
        _limiter = limiter;
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

        using var lease = await _streams.ClaimAsync(hello.AgentId, token.Id, _options.TakeoverTimeout, ct).ConfigureAwait(false);
        if (lease.ReplacedAnother)
        {
            _logger.StreamReplaced(hello.AgentId);
        }
        // The server stopping (AgentStreams.Stopping) ends the stream instead of holding the shutdown up.
        using var session = CancellationTokenSource.CreateLinkedTokenSource(ct, lease.Replaced, lease.Revoked, _streams.Stopping);
        try
        {
            await RunSessionAsync(hello, token, requests, responses, peer, session.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (lease.Revoked.IsCancellationRequested && !ct.IsCancellationRequested && IsEndOfSession(ex))
        {
            // The agent learns why, and its reconnect is refused by the token check above.
            _logger.StreamRevoked(hello.AgentId, hello.Host.Hostname, peer, token.Name);
            throw new RpcException(new Status(StatusCode.Unauthenticated, RevokedDetail));
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

    /// <summary>The status detail of a stream cut because its enrollment token was revoked.</summary>
    public const string RevokedDetail = "enrollment token revoked";

    /// <summary>How a session ends when its token cancels it: cancelled, or the storage failure cancellation caused.</summary>
    private static bool IsEndOfSession(Exception ex) =>
        ex is OperationCanceledException || (ex is RpcException rpc && rpc.StatusCode is StatusCode.Cancelled or StatusCode.Unavailable);

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
        var lane = new SnapshotLane();
        try
        {
            // Receiving submits snapshots (and rejections) in order; acknowledging answers them in that order.
            // Whichever fails first cancels the other, and its exception ends the stream.
            using var session = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var window = new SemaphoreSlim(_batcher.Options.MaxInFlightPerStream);
            var inFlight = Channel.CreateUnbounded<InFlight>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            var receive = ReceiveAsync(hello, agent, requests, lane, window, inFlight.Writer, counts, session);
            var acknowledge = AcknowledgeAsync(hello, inFlight.Reader, window, writer, counts, session);
            await Task.WhenAll(receive, acknowledge).ConfigureAwait(false);
        }
        finally
        {
            // What this stream submitted is stored (or failed) before another stream of the agent takes over.
            try
            {
                await lane.SettledAsync().WaitAsync(_options.TakeoverTimeout, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Stuck in storage: storage stores each sequence once, so the next stream may go on.
            }
            await stopPush.CancelAsync().ConfigureAwait(false);
            await push.ConfigureAwait(false);
            _logger.AgentDisconnected(hello.AgentId, hello.Host.Hostname, counts.Acked, counts.Rejected);
            if (counts.Throttled > 0)
            {
                _logger.ThrottledOnStream(hello.AgentId, hello.Host.Hostname, counts.Throttled);
            }
        }
    }

    private async Task ReceiveAsync(
        Hello hello,
        AgentRegistration agent,
        IAsyncStreamReader<AgentMessage> requests,
        SnapshotLane lane,
        SemaphoreSlim window,
        ChannelWriter<InFlight> inFlight,
        Counts counts,
        CancellationTokenSource session)
    {
        var ct = session.Token;
        try
        {
            while (await requests.MoveNext(ct).ConfigureAwait(false))
            {
                var message = requests.Current;
                switch (message.BodyCase)
                {
                    case AgentMessage.BodyOneofCase.Snapshot:
                        // Over its rate, the stream waits here and reads nothing more: the agent's window fills and it waits too.
                        if (await _limiter.WaitAsync(hello.AgentId, ct).ConfigureAwait(false) && counts.Throttled++ == 0)
                        {
                            _logger.SnapshotsThrottled(hello.AgentId, hello.Host.Hostname, _options.RateLimit.SnapshotsPerSecond, _options.RateLimit.Burst);
                        }
                        await window.WaitAsync(ct).ConfigureAwait(false);
                        inFlight.TryWrite(await SubmitAsync(hello, agent, lane, message.Snapshot, ct).ConfigureAwait(false));
                        break;
                    case AgentMessage.BodyOneofCase.Hello:
                        throw new RpcException(new Status(StatusCode.InvalidArgument, "hello may only be sent once, as the first message"));
                    default:
                        // A message kind from a later contract revision: nothing to do with it here.
                        break;
                }
            }
        }
        catch
        {
            await session.CancelAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            inFlight.TryComplete();
        }
    }

    private async Task<InFlight> SubmitAsync(Hello hello, AgentRegistration agent, SnapshotLane lane, Snapshot snapshot, CancellationToken ct)
    {
        if (_validator.Validate(snapshot, hello.Host.MachineId) is { } problem)
        {
            _logger.SnapshotRejected(snapshot.Sequence, hello.AgentId, hello.Host.Hostname, problem.Field, problem.Reason);
            return new InFlight(snapshot.Sequence, problem, null);
        }
        try
        {
            return new InFlight(snapshot.Sequence, null, await _batcher.SubmitAsync(lane, agent, snapshot, ct).ConfigureAwait(false));
        }
        catch (Exception ex) when (IsStorageFailure(ex, ct))
        {
            throw StorageUnavailable(ex, $"storing snapshot {snapshot.Sequence}", hello.AgentId);
        }
    }

    private async Task AcknowledgeAsync(
        Hello hello,
        ChannelReader<InFlight> inFlight,
        SemaphoreSlim window,
        SerialWriter writer,
        Counts counts,
        CancellationTokenSource session)
    {
        var ct = session.Token;
        try
        {
            await foreach (var item in inFlight.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (item.Problem is { } problem)
                {
                    counts.Rejected++;
                    await writer.WriteAsync(
                        new ServerMessage { Rejection = new Rejection { Sequence = item.Sequence, Field = problem.Field, Reason = problem.Reason } },
                        ct).ConfigureAwait(false);
                }
                else
                {
                    StoreOutcome outcome;
                    try
                    {
                        outcome = await item.Outcome!.WaitAsync(ct).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (IsStorageFailure(ex, ct))
                    {
                        throw StorageUnavailable(ex, $"storing snapshot {item.Sequence}", hello.AgentId);
                    }
                    _logger.SnapshotStored(item.Sequence, hello.AgentId, outcome == StoreOutcome.Duplicate ? "duplicate" : "stored");
                    await writer.WriteAsync(
                        new ServerMessage { Ack = new Ack { Sequence = item.Sequence, Duplicate = outcome == StoreOutcome.Duplicate } },
                        ct).ConfigureAwait(false);
                    counts.Acked++;
                }
                window.Release();
            }
        }
        catch
        {
            await session.CancelAsync().ConfigureAwait(false);
            throw;
        }
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
        return new RpcException(new Status(StatusCode.Unavailable, $"storage unavailable: {SnapshotValidator.Shorten(ex.GetBaseException().Message, 200)}"));
    }

    /// <summary>A snapshot of the stream awaiting its answer: a rejection, or the outcome of storing it.</summary>
    private sealed record InFlight(ulong Sequence, ValidationProblem? Problem, Task<StoreOutcome>? Outcome);

    private sealed class Counts
    {
        public long Acked { get; set; }

        public long Rejected { get; set; }

        /// <summary>Snapshots that waited for the agent's rate limit (written by the receiving loop only).</summary>
        public long Throttled { get; set; }
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
