using Fleet.Contracts.V1;
using Fleet.Server.Tests.Hosting;
using Grpc.Core;
using Grpc.Net.Client;

namespace Fleet.Server.Tests.Ingest;

/// <summary>The real server on Kestrel, a real gRPC client over h2c on 127.0.0.1; storage is the in-memory fake.</summary>
public sealed class GrpcIngestTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly FleetServerFactory _factory = new();
    private GrpcChannel _channel = null!;
    private Uri _grpc = null!;
    private string _token = "";

    public Task InitializeAsync()
    {
        var (_, grpc) = _factory.Start();
        _grpc = grpc;
        _channel = GrpcChannel.ForAddress(grpc, new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
        _token = _factory.Store.AddKnownToken("grpc-tests");
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _channel.Dispose();
        _factory.Dispose();
    }

    private AsyncDuplexStreamingCall<AgentMessage, ServerMessage> Connect(CancellationToken ct, Metadata? headers = null) =>
        new AgentIngest.AgentIngestClient(_channel).Connect(headers, deadline: DateTime.UtcNow.Add(Timeout), cancellationToken: ct);

    private static async Task<ServerMessage> NextAsync(AsyncDuplexStreamingCall<AgentMessage, ServerMessage> call, CancellationToken ct)
    {
        Assert.True(await call.ResponseStream.MoveNext(ct), "the server ended the stream");
        return call.ResponseStream.Current;
    }

    [Fact]
    public async Task BadToken_IsRefusedWithUnauthenticated()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var call = Connect(cts.Token);

        await call.RequestStream.WriteAsync(TestSnapshots.HelloMessage("fleet_not-a-real-token"), cts.Token);

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Equal("enrollment token refused", ex.Status.Detail);
    }

    [Fact]
    public async Task MalformedSnapshot_GetsRejectionNamingField_AndTheStreamStaysUsable()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var call = Connect(cts.Token);
        await call.RequestStream.WriteAsync(TestSnapshots.HelloMessage(_token, "agent-malformed"), cts.Token);
        Assert.Equal(ServerMessage.BodyOneofCase.Welcome, (await NextAsync(call, cts.Token)).BodyCase);
        var bad = TestSnapshots.Valid(1);
        bad.Processes[2].CloseWaitRemotes[0].Address = "not-an-address";

        await call.RequestStream.WriteAsync(TestSnapshots.SnapshotMessage(bad), cts.Token);
        var rejection = (await NextAsync(call, cts.Token)).Rejection;
        await call.RequestStream.WriteAsync(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(2)), cts.Token);
        var ack = (await NextAsync(call, cts.Token)).Ack;

        Assert.Equal(1ul, rejection.Sequence);
        Assert.Equal("processes[2].close_wait_remotes[0].address", rejection.Field);
        Assert.Equal(2ul, ack.Sequence);
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(cts.Token));
        Assert.Equal([2ul], _factory.Store.Stored.Where(s => s.AgentId == "agent-malformed").Select(s => s.Snapshot.Sequence));
    }

    [Fact]
    public async Task OversizedMessage_FailsWithResourceExhausted_AndTheServerServesTheNextCall()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using (var call = Connect(cts.Token))
        {
            await call.RequestStream.WriteAsync(TestSnapshots.HelloMessage(_token, "agent-big"), cts.Token);
            Assert.Equal(ServerMessage.BodyOneofCase.Welcome, (await NextAsync(call, cts.Token)).BodyCase);
            var huge = TestSnapshots.Valid(1);
            // 2 MiB against the factory's 1 MiB limit.
            huge.Processes[0].Cmdline = new string('x', 2 * 1024 * 1024);

            try
            {
                await call.RequestStream.WriteAsync(TestSnapshots.SnapshotMessage(huge), cts.Token);
            }
            catch (RpcException)
            {
                // The server may end the call while the message is still being written.
            }

            var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(cts.Token));
            Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        }

        using var next = Connect(cts.Token);
        await next.RequestStream.WriteAsync(TestSnapshots.HelloMessage(_token, "agent-big"), cts.Token);
        Assert.Equal(ServerMessage.BodyOneofCase.Welcome, (await NextAsync(next, cts.Token)).BodyCase);
        await next.RequestStream.WriteAsync(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(1)), cts.Token);
        Assert.Equal(1ul, (await NextAsync(next, cts.Token)).Ack.Sequence);
        await next.RequestStream.CompleteAsync();
    }

    [Fact]
    public async Task GzipCompressedSnapshot_IsAcked_AndResponsesAreGzip()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var wire = new HeaderRecorder();
        using var channel = GrpcChannel.ForAddress(_grpc, new GrpcChannelOptions { HttpHandler = wire });
        // Grpc.Net.Client compresses what it sends with the algorithm named in this header.
        using var call = new AgentIngest.AgentIngestClient(channel).Connect(
            new Metadata { { "grpc-internal-encoding-request", "gzip" } }, cancellationToken: cts.Token);

        await call.RequestStream.WriteAsync(TestSnapshots.HelloMessage(_token, "agent-gzip"), cts.Token);
        var welcome = await NextAsync(call, cts.Token);
        await call.RequestStream.WriteAsync(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(1, processes: 500)), cts.Token);
        var ack = (await NextAsync(call, cts.Token)).Ack;

        Assert.Equal(ServerMessage.BodyOneofCase.Welcome, welcome.BodyCase);
        Assert.Equal(1ul, ack.Sequence);
        Assert.Equal("gzip", wire.RequestEncoding);
        Assert.Equal("gzip", wire.ResponseEncoding);
        await call.RequestStream.CompleteAsync();
    }

    [Fact]
    public async Task FirstMessageNotHello_FailsWithInvalidArgument()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var call = Connect(cts.Token);

        await call.RequestStream.WriteAsync(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(1)), cts.Token);

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("first message must be hello", ex.Status.Detail);
    }

    /// <summary>Notes the grpc-encoding headers as they cross the wire.</summary>
    private sealed class HeaderRecorder() : DelegatingHandler(new SocketsHttpHandler())
    {
        public string? RequestEncoding { get; private set; }

        public string? ResponseEncoding { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            RequestEncoding = request.Headers.TryGetValues("grpc-encoding", out var sent) ? sent.FirstOrDefault() : null;
            var response = await base.SendAsync(request, cancellationToken);
            ResponseEncoding = response.Headers.TryGetValues("grpc-encoding", out var received) ? received.FirstOrDefault() : null;
            return response;
        }
    }
}
