using Fleet.Contracts.V1;
using Fleet.Server.Tests.Ingest;
using Grpc.Core;
using Grpc.Net.Client;

namespace Fleet.Server.Tests.Hosting;

public sealed class ServerLifetimeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Shutdown_WithAnOpenAgentStream_EndsTheStreamWithUnavailableAndStopsPromptly()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var factory = new FleetServerFactory();
        var (_, grpc) = factory.Start();
        string token = factory.Store.AddKnownToken();
        using var channel = GrpcChannel.ForAddress(grpc);
        using var call = new AgentIngest.AgentIngestClient(channel).Connect(cancellationToken: cts.Token);
        await call.RequestStream.WriteAsync(TestSnapshots.HelloMessage(token), cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));

        var stopping = factory.DisposeAsync().AsTask();
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(cts.Token));

        // The session ends the call with Unavailable; when Kestrel closes the connection (GOAWAY) before
        // those trailers reach the client, the client sees the connection end instead. Either way the agent
        // reconnects; what must not happen is the stream staying open through the shutdown.
        bool unavailable = ex.StatusCode == StatusCode.Unavailable;
        bool connectionClosed = ex.StatusCode == StatusCode.Internal && ex.Status.DebugException is System.Net.Http.HttpProtocolException;
        Assert.True(unavailable || connectionClosed, $"{ex.StatusCode}: {ex.Status.Detail} {ex.Status.DebugException}");
        // Well within the host's 30 s shutdown timeout, which an open stream would otherwise use up.
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
