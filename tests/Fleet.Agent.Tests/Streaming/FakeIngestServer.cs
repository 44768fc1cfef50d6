using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Fleet.Contracts.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fleet.Agent.Tests.Streaming;

/// <summary>
/// What a fake AgentIngest server knows and does; it outlives the server (a restart keeps what was
/// committed, like a database would).
/// </summary>
internal sealed class FakeIngestState
{
    private readonly ConcurrentDictionary<(string AgentId, ulong Sequence), Snapshot> _committed = new();
    private readonly Channel<ServerMessage> _push = Channel.CreateUnbounded<ServerMessage>();

    public string ExpectedToken { get; set; } = "token";
    public bool AutoAck { get; set; } = true;
    public AgentConfig? WelcomeConfig { get; set; }
    /// <summary>Answers Welcome with this instead of the highest committed sequence.</summary>
    public ulong? WelcomeCommitted { get; set; }
    public Func<Snapshot, Rejection?>? Reject { get; set; }

    public ConcurrentQueue<Hello> Hellos { get; } = new();
    public ConcurrentQueue<(string AgentId, ulong Sequence)> Received { get; } = new();
    public ConcurrentQueue<string> RequestEncodings { get; } = new();
    public int Unauthenticated;
    /// <summary>Streams whose agent half-closed its side (a graceful stop) rather than resetting it.</summary>
    public int ClosedByAgent;
    public int ActiveStreams;

    public IReadOnlyCollection<(string AgentId, ulong Sequence)> Committed => _committed.Keys.ToList();

    public IEnumerable<ulong> CommittedSequences(string agentId) =>
        _committed.Keys.Where(k => k.AgentId == agentId).Select(k => k.Sequence).Order();

    public IEnumerable<Snapshot> CommittedSnapshots => _committed.Values;

    public ulong LastCommitted(string agentId) =>
        _committed.Keys.Where(k => k.AgentId == agentId).Select(k => k.Sequence).DefaultIfEmpty(0UL).Max();

    /// <summary>True when this is the first time the sequence is stored.</summary>
    public bool Commit(string agentId, Snapshot snapshot) => _committed.TryAdd((agentId, snapshot.Sequence), snapshot);

    /// <summary>Sends a message down the stream that is open (or the next one).</summary>
    public void Push(ServerMessage message) => _push.Writer.TryWrite(message);

    public ChannelReader<ServerMessage> Pushed => _push.Reader;
}

internal sealed class FakeIngestService(FakeIngestState state, IHostApplicationLifetime lifetime) : AgentIngest.AgentIngestBase
{
    public override async Task Connect(IAsyncStreamReader<AgentMessage> requestStream, IServerStreamWriter<ServerMessage> responseStream, ServerCallContext context)
    {
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var ct = stream.Token;
        state.RequestEncodings.Enqueue(context.GetHttpContext().Request.Headers["grpc-encoding"].FirstOrDefault() ?? "identity");
        if (!await requestStream.MoveNext(ct) || requestStream.Current.BodyCase != AgentMessage.BodyOneofCase.Hello)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "Hello first"));
        }
        var hello = requestStream.Current.Hello;
        state.Hellos.Enqueue(hello);
        if (hello.EnrollmentToken != state.ExpectedToken)
        {
            Interlocked.Increment(ref state.Unauthenticated);
            throw new RpcException(new Status(StatusCode.Unauthenticated, "unknown enrollment token"));
        }
        using var writing = new SemaphoreSlim(1);
        async Task Write(ServerMessage message)
        {
            await writing.WaitAsync(ct);
            try
            {
                await responseStream.WriteAsync(message, ct);
            }
            finally
            {
                writing.Release();
            }
        }
        Interlocked.Increment(ref state.ActiveStreams);
        try
        {
            await Write(new ServerMessage
            {
                Welcome = new Welcome { LastCommittedSequence = state.WelcomeCommitted ?? state.LastCommitted(hello.AgentId), Config = state.WelcomeConfig },
            });
            var pushing = Task.Run(async () =>
            {
                while (await state.Pushed.WaitToReadAsync(ct))
                {
                    if (state.Pushed.TryRead(out var message))
                    {
                        await Write(message);
                    }
                }
            }, ct);
            while (await requestStream.MoveNext(ct))
            {
                var snapshot = requestStream.Current.Snapshot;
                state.Received.Enqueue((hello.AgentId, snapshot.Sequence));
                if (state.Reject?.Invoke(snapshot) is { } rejection)
                {
                    await Write(new ServerMessage { Rejection = rejection });
                    continue;
                }
                bool first = state.Commit(hello.AgentId, snapshot);
                if (state.AutoAck)
                {
                    await Write(new ServerMessage { Ack = new Ack { Sequence = snapshot.Sequence, Duplicate = !first } });
                }
            }
            Interlocked.Increment(ref state.ClosedByAgent);
        }
        catch (OperationCanceledException)
        {
            // The client went away or the server is stopping: end the stream.
        }
        catch (IOException)
        {
            // The client reset the stream.
        }
        finally
        {
            Interlocked.Decrement(ref state.ActiveStreams);
        }
    }
}

/// <summary>A real Kestrel server (HTTP/2 only, h2c or TLS) on 127.0.0.1 hosting the fake AgentIngest service.</summary>
internal sealed class FakeIngestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private FakeIngestServer(WebApplication app, FakeIngestState state, int port, bool tls)
    {
        _app = app;
        State = state;
        Port = port;
        Address = new Uri($"{(tls ? "https" : "http")}://127.0.0.1:{port}");
    }

    public FakeIngestState State { get; }
    public int Port { get; }
    public Uri Address { get; }

    public static async Task<FakeIngestServer> StartAsync(FakeIngestState? state = null, int port = 0, X509Certificate2? certificate = null)
    {
        state ??= new FakeIngestState();
        // No file watching (reloadOnChange): an inotify fd left behind would disturb the fd-leak tests of the collector.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(state);
        var app = builder.Build();
        app.MapGrpcService<FakeIngestService>();
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FakeIngestServer(app, state, new Uri(address).Port, certificate is not null);
    }

    /// <summary>Stops (and disposes) this server and starts a new one on the same port with the same state.</summary>
    public async Task<FakeIngestServer> RestartAsync()
    {
        await DisposeAsync();
        return await StartAsync(State, Port);
    }

    public async Task StopAsync()
    {
        await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await StopAsync();
        await _app.DisposeAsync();
    }
}
