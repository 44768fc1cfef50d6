using Fleet.Contracts.V1;
using Fleet.Server.Tests.Ingest;
using Grpc.Core;
using Grpc.Net.Client;

namespace Fleet.Server.Tests.Enrollment;

/// <summary>
/// An agent spoken by hand over real gRPC: Hello with a host of its own (its own machine id), then snapshots and
/// their answers one by one, so a test sees the exact status the server ends the stream with.
/// </summary>
internal sealed class RawAgent : IDisposable
{
    public const string Version = "0.1.0-test";

    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<AgentMessage, ServerMessage> _call;
    private readonly CancellationTokenSource _cts = new(EnrollmentServer.Timeout);
    private readonly Hello _hello;

    private RawAgent(GrpcChannel channel, AsyncDuplexStreamingCall<AgentMessage, ServerMessage> call, Hello hello)
    {
        _channel = channel;
        _call = call;
        _hello = hello;
    }

    public string AgentId => _hello.AgentId;

    public string MachineId => _hello.Host.MachineId;

    public Welcome Welcome { get; private set; } = null!;

    /// <summary>Opens a stream and says hello; throws the server's <see cref="RpcException"/> when it refuses.</summary>
    public static async Task<RawAgent> ConnectAsync(Uri grpc, string token, string agentId, string? machineId = null)
    {
        var hello = TestSnapshots.Hello(token, agentId);
        hello.AgentVersion = Version;
        hello.Host.MachineId = machineId ?? Guid.NewGuid().ToString("N");
        hello.Host.Hostname = $"host-{agentId}";
        var channel = GrpcChannel.ForAddress(grpc, new GrpcChannelOptions { MaxSendMessageSize = null, MaxReceiveMessageSize = null });
        var call = new AgentIngest.AgentIngestClient(channel).Connect(deadline: DateTime.UtcNow.Add(EnrollmentServer.Timeout));
        var agent = new RawAgent(channel, call, hello);
        try
        {
            await call.RequestStream.WriteAsync(new AgentMessage { Hello = hello }, agent._cts.Token);
            var first = await agent.NextAsync();
            Assert.Equal(ServerMessage.BodyOneofCase.Welcome, first.BodyCase);
            agent.Welcome = first.Welcome;
            return agent;
        }
        catch
        {
            agent.Dispose();
            throw;
        }
    }

    /// <summary>Sends snapshot <paramref name="sequence"/> of this agent's host, collected now (whole microseconds).</summary>
    public Task SendAsync(ulong sequence)
    {
        var now = DateTimeOffset.UtcNow;
        var snapshot = TestSnapshots.Valid(sequence, now.AddTicks(-(now.Ticks % 10)));
        snapshot.Host = _hello.Host.Clone();
        return _call.RequestStream.WriteAsync(new AgentMessage { Snapshot = snapshot }, _cts.Token);
    }

    /// <summary>The next server message (a config push is skipped); fails when the stream ended.</summary>
    public async Task<ServerMessage> NextAsync()
    {
        while (true)
        {
            Assert.True(await _call.ResponseStream.MoveNext(_cts.Token), "the server ended the stream");
            if (_call.ResponseStream.Current.BodyCase != ServerMessage.BodyOneofCase.Config)
            {
                return _call.ResponseStream.Current;
            }
        }
    }

    /// <summary>Sends <paramref name="sequence"/> and returns its acknowledgement.</summary>
    public async Task<Ack> SendAndAckAsync(ulong sequence)
    {
        await SendAsync(sequence);
        var answer = await NextAsync();
        Assert.Equal(ServerMessage.BodyOneofCase.Ack, answer.BodyCase);
        Assert.Equal(sequence, answer.Ack.Sequence);
        return answer.Ack;
    }

    /// <summary>Waits (bounded) for the server to end the stream and returns the status it ended it with.</summary>
    public async Task<RpcException> EndedAsync()
    {
        try
        {
            while (await _call.ResponseStream.MoveNext(_cts.Token))
            {
                // Acknowledgements still on their way before the end.
            }
        }
        catch (RpcException e)
        {
            return e;
        }
        Assert.Fail($"the stream of {AgentId} ended with OK, not with a status");
        return null!;
    }

    /// <summary>Ends this agent's half of the stream (as an agent stopping does) and waits for the server's end.</summary>
    public async Task CloseAsync()
    {
        await _call.RequestStream.CompleteAsync().WaitAsync(_cts.Token);
        while (await _call.ResponseStream.MoveNext(_cts.Token))
        {
        }
    }

    public void Dispose()
    {
        _call.Dispose();
        _channel.Dispose();
        _cts.Dispose();
    }
}
