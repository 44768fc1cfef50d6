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

        Assert.True(ex.StatusCode == StatusCode.Unavailable, $"{ex.StatusCode}: {ex.Status.Detail} {ex.Status.DebugException}");
        // Well within the host's 30 s shutdown timeout, which an open stream would otherwise use up.
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
