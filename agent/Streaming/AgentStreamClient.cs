using System.Threading.Channels;
using Fleet.Agent.Snapshots;
using Fleet.Contracts.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleet.Agent.Streaming;

/// <summary>
/// Keeps one bidirectional AgentIngest.Connect stream open for one agent: Hello, then Welcome (spooled
/// snapshots the server already has are dropped, its configuration applied), then every spooled snapshot
/// in sequence order, and new ones as they are spooled, with at most <see cref="StreamClientOptions.MaxInFlight"/>
/// unacknowledged at a time. Acknowledged and rejected snapshots leave the spool. A stream that fails or
/// ends is opened again after a capped, jittered exponential backoff, for as long as the agent runs:
/// neither an unreachable server nor a refused token stops it.
/// </summary>
internal sealed class AgentStreamClient
{
    /// <summary>Asks Grpc.Net.Client to gzip the messages this agent sends.</summary>
    public const string RequestEncodingHeader = "grpc-internal-encoding-request";

    private readonly StreamClientOptions _options;
    private readonly SnapshotSpool _spool;
    private readonly ILogger _logger;
    private readonly ReconnectBackoff _backoff;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;
    private readonly ServerCertificateCheck _certificates;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly TaskCompletionSource _hostKnown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly HashSet<ulong> _inFlight = new();
    private HostIdentity? _host;
    private volatile bool _connected;
    private bool _acknowledgedThisSession;
    private long _attempts;
    private long _welcomes;
    private long _sent;
    private long _acknowledged;
    private long _duplicates;
    private long _rejected;

    public AgentStreamClient(StreamClientOptions options, SnapshotSpool spool, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(spool);
        string? problem = IngestChannel.Validate(options.ServerAddress, options.AllowPlaintext);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(options));
        }
        if (options.MaxInFlight < 1)
        {
            throw new ArgumentException("MaxInFlight must be at least 1", nameof(options));
        }
        if (IngestChannel.ValidateTrust(options.ServerAddress, options.CaFile, options.ServerFingerprint, options.HttpHandler is not null,
                nameof(options.ServerFingerprint), nameof(options.CaFile)) is { } trust)
        {
            throw new ArgumentException(trust, nameof(options));
        }
        _certificates = new ServerCertificateCheck(options.ServerFingerprint is { } fingerprint ? ServerFingerprint.TryParse(fingerprint, out _) : null);
        if (options.CaFile is { } caFile && options.HttpHandler is null)
        {
            // A bad CA bundle is a configuration error: say so at start, not on the first connection.
            _ = IngestChannel.TrustingCaBundle(caFile);
        }
        _options = options;
        _spool = spool;
        _logger = logger ?? NullLogger.Instance;
        _backoff = new ReconnectBackoff(options.BackoffInitial, options.BackoffCap, options.Jitter);
        _delay = options.Delay ?? ((delay, ct) => Task.Delay(delay, options.TimeProvider, ct));
    }

    /// <summary>Raised (on the stream's reader) for the configuration in Welcome and for every AgentConfig pushed later.</summary>
    public event Action<AgentConfig>? ConfigReceived;

    /// <summary>The host this agent speaks for, sent in Hello; the stream opens once it is known.</summary>
    public HostIdentity? Host
    {
        get => Volatile.Read(ref _host);
        set
        {
            Volatile.Write(ref _host, value);
            if (value is not null)
            {
                _hostKnown.TrySetResult();
            }
        }
    }

    /// <summary>True between a Welcome and the end of that stream.</summary>
    public bool IsConnected => _connected;

    public long Attempts => Interlocked.Read(ref _attempts);
    public long Welcomes => Interlocked.Read(ref _welcomes);
    public long SnapshotsSent => Interlocked.Read(ref _sent);
    public long Acknowledged => Interlocked.Read(ref _acknowledged);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long Rejected => Interlocked.Read(ref _rejected);

    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>A snapshot was spooled (or room was made): wakes the sender.</summary>
    public void NotifySpooled() => _wake.Writer.TryWrite(true);

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled, then returns (the spool stays on disk).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _hostKnown.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        using var channel = IngestChannel.Create(_options, _certificates);
        var client = new AgentIngest.AgentIngestClient(channel);
        while (!cancellationToken.IsCancellationRequested)
        {
            long started = _options.TimeProvider.GetTimestamp();
            bool welcomed = false;
            string failure;
            try
            {
                await RunStreamAsync(client, () => welcomed = true, cancellationToken).ConfigureAwait(false);
                failure = "the server ended the stream";
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: whatever the call says now is only its cancellation.
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
            {
                var wait = NextDelay(welcomed, started);
                _logger.TokenRefused(_options.ServerAddress, e.Status.Detail, wait.TotalSeconds);
                if (!await WaitAsync(wait, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
                continue;
            }
            catch (RpcException e)
            {
                failure = e.Status.DebugException is { } cause
                    ? $"{e.StatusCode}: {e.Status.Detail} {cause.Message}"
                    : $"{e.StatusCode}: {e.Status.Detail}";
            }
            catch (Exception e)
            {
                // Whatever broke this stream, the agent reconnects: it must never stop streaming by itself.
                failure = $"{e.GetType().Name}: {e.Message}";
            }
            finally
            {
                _connected = false;
            }
            var delay = NextDelay(welcomed, started);
            if (_certificates.TakeRefused() is { } refused)
            {
                // Not an outage: the wrong server, a renewed certificate, or a trust not set up. Said every time, at error level.
                if (_certificates.Pinned is { } pinned)
                {
                    _logger.ServerCertificateRefused(refused.Fingerprint, pinned, _options.ServerAddress, delay.TotalSeconds, _spool.Count);
                }
                else
                {
                    _logger.ServerCertificateUntrusted(_options.ServerAddress, refused.Fingerprint, refused.Errors, delay.TotalSeconds, _spool.Count);
                }
            }
            else if (_backoff.Failures <= 1 || welcomed)
            {
                _logger.StreamDown(_options.ServerAddress, failure, delay.TotalSeconds, _spool.Count);
            }
            else
            {
                _logger.StillUnreachable(_options.ServerAddress, failure, _backoff.Failures, delay.TotalSeconds, _spool.Count);
            }
            if (!await WaitAsync(delay, cancellationToken).ConfigureAwait(false))
            {
                break;
            }
        }
    }

    private TimeSpan NextDelay(bool welcomed, long startedTimestamp)
    {
        bool healthy = welcomed && (_acknowledgedThisSession || _options.TimeProvider.GetElapsedTime(startedTimestamp) >= _options.HealthyAfter);
        if (healthy)
        {
            _backoff.Reset();
        }
        return _backoff.NextDelay();
    }

    private async Task<bool> WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await _delay(delay, cancellationToken).ConfigureAwait(false);
            return !cancellationToken.IsCancellationRequested;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>One stream, from Hello until it fails or ends; <paramref name="onWelcome"/> marks that Welcome arrived.</summary>
    private async Task RunStreamAsync(AgentIngest.AgentIngestClient client, Action onWelcome, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _attempts);
        _acknowledgedThisSession = false;
        // The call has its own token so that stopping can close it gracefully (half-close, then the server's
        // last acknowledgements) instead of resetting it; the session token stops the sender.
        using var callEnd = new CancellationTokenSource();
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var headers = new Metadata { { RequestEncodingHeader, "gzip" } };
        using var call = client.Connect(headers, cancellationToken: callEnd.Token);
        try
        {
            Welcome welcome;
            using (session.Token.Register(callEnd.Cancel))
            {
                var hello = new Hello
                {
                    Host = Host,
                    EnrollmentToken = _options.EnrollmentToken,
                    AgentVersion = AgentVersion.Current,
                    ContractVersion = SnapshotBuilder.ContractVersion,
                    OldestUnacknowledgedSequence = _spool.OldestSequence,
                    AgentId = _spool.AgentId,
                };
                await call.RequestStream.WriteAsync(new AgentMessage { Hello = hello }, session.Token).ConfigureAwait(false);
                welcome = await ReadWelcomeAsync(call.ResponseStream, session.Token, cancellationToken).ConfigureAwait(false);
            }
            Interlocked.Increment(ref _welcomes);
            onWelcome();
            int alreadyStored = _spool.RemoveThrough(welcome.LastCommittedSequence);
            _spool.EnsureNextSequenceAbove(welcome.LastCommittedSequence);
            lock (_gate)
            {
                _inFlight.Clear();
            }
            _connected = true;
            _logger.Connected(_options.ServerAddress, _spool.AgentId, welcome.LastCommittedSequence, alreadyStored, _spool.Count);
            if (welcome.Config is { } config)
            {
                ConfigReceived?.Invoke(config);
            }

            var reader = ReadAsync(call.ResponseStream, callEnd.Token);
            var writer = WriteAsync(call.RequestStream, welcome.LastCommittedSequence, session.Token);
            var first = await Task.WhenAny(reader, writer).ConfigureAwait(false);
            if (first == writer && cancellationToken.IsCancellationRequested)
            {
                await CloseGracefullyAsync(call.RequestStream, reader, _options.GracefulCloseTimeout).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
            await session.CancelAsync().ConfigureAwait(false);
            await callEnd.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(reader, writer).ConfigureAwait(false);
            }
            catch (Exception) when (!first.IsFaulted)
            {
                // The other half was cancelled because the first one ended: nothing to report.
            }
            catch (Exception) when (first.IsFaulted)
            {
                // Reported below through the half that failed first.
            }
            if (first.IsFaulted)
            {
                throw first.Exception!.InnerException!;
            }
            cancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            await callEnd.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stopping: tells the server nothing more is coming and gives it a moment to acknowledge what it has,
    /// so fewer snapshots are sent twice after the restart. What stays unacknowledged stays spooled.
    /// </summary>
    private static async Task CloseGracefullyAsync(IClientStreamWriter<AgentMessage> requests, Task reader, TimeSpan timeout)
    {
        try
        {
            await requests.CompleteAsync().WaitAsync(timeout).ConfigureAwait(false);
            await reader.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The call is cancelled right after: a server that does not answer in time loses nothing.
        }
    }

    private async Task<Welcome> ReadWelcomeAsync(IAsyncStreamReader<ServerMessage> responses, CancellationToken session, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(session);
        timeout.CancelAfter(_options.WelcomeTimeout);
        bool received;
        try
        {
            received = await responses.MoveNext(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled }
            && !stop.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"no Welcome within {_options.WelcomeTimeout.TotalSeconds:F0} s of Hello");
        }
        if (!received)
        {
            throw new ProtocolException("the server closed the stream before Welcome");
        }
        var message = responses.Current;
        if (message.BodyCase != ServerMessage.BodyOneofCase.Welcome)
        {
            throw new ProtocolException($"the server answered Hello with {message.BodyCase} instead of Welcome");
        }
        return message.Welcome;
    }

    private async Task ReadAsync(IAsyncStreamReader<ServerMessage> responses, CancellationToken cancellationToken)
    {
        while (await responses.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            var message = responses.Current;
            switch (message.BodyCase)
            {
                case ServerMessage.BodyOneofCase.Ack:
                    Settle(message.Ack.Sequence);
                    _acknowledgedThisSession = true;
                    Interlocked.Increment(ref _acknowledged);
                    if (message.Ack.Duplicate)
                    {
                        Interlocked.Increment(ref _duplicates);
                    }
                    break;
                case ServerMessage.BodyOneofCase.Rejection:
                    var rejection = message.Rejection;
                    Settle(rejection.Sequence);
                    Interlocked.Increment(ref _rejected);
                    _logger.SnapshotRejected(rejection.Sequence, rejection.Field, rejection.Reason);
                    break;
                case ServerMessage.BodyOneofCase.Config:
                    ConfigReceived?.Invoke(message.Config);
                    break;
                default:
                    _logger.IgnoredMessage(message.BodyCase);
                    break;
            }
        }
    }

    /// <summary>An acknowledged or rejected snapshot leaves the spool and frees its place in flight.</summary>
    private void Settle(ulong sequence)
    {
        _spool.Remove(sequence);
        lock (_gate)
        {
            _inFlight.Remove(sequence);
        }
        NotifySpooled();
    }

    private async Task WriteAsync(IClientStreamWriter<AgentMessage> requests, ulong after, CancellationToken cancellationToken)
    {
        ulong cursor = after;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool room;
            lock (_gate)
            {
                room = _inFlight.Count < _options.MaxInFlight;
            }
            if (room && _spool.TryNextAfter(cursor, out ulong sequence))
            {
                cursor = sequence;
                var snapshot = _spool.Read(sequence);
                if (snapshot is null)
                {
                    continue;
                }
                lock (_gate)
                {
                    _inFlight.Add(sequence);
                }
                await requests.WriteAsync(new AgentMessage { Snapshot = snapshot }, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _sent);
                continue;
            }
            await _wake.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>The server broke the stream's protocol (for example answered Hello with something other than Welcome).</summary>
internal sealed class ProtocolException(string message) : Exception(message);
