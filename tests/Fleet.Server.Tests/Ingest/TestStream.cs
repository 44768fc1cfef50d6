using System.Threading.Channels;
using Fleet.Contracts.V1;
using Grpc.Core;

namespace Fleet.Server.Tests.Ingest;

/// <summary>Both halves of an AgentIngest stream in memory: the test sends agent messages and reads server messages.</summary>
internal sealed class TestStream : IAsyncStreamReader<AgentMessage>, IServerStreamWriter<ServerMessage>
{
    public static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(10);

    private readonly Channel<AgentMessage> _requests = Channel.CreateUnbounded<AgentMessage>();
    private readonly Channel<ServerMessage> _responses = Channel.CreateUnbounded<ServerMessage>();

    public AgentMessage Current { get; private set; } = new();

    public WriteOptions? WriteOptions { get; set; }

    public void Send(AgentMessage message) => _requests.Writer.TryWrite(message);

    /// <summary>The agent ends its half of the stream.</summary>
    public void Complete() => _requests.Writer.TryComplete();

    /// <summary>The next server message, within <see cref="Timeout"/>.</summary>
    public async Task<ServerMessage> ReceiveAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        return await _responses.Reader.ReadAsync(cts.Token);
    }

    /// <summary>True when the server wrote nothing more (checked after the session ended).</summary>
    public bool NothingMoreReceived => !_responses.Reader.TryPeek(out _);

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (await _requests.Reader.WaitToReadAsync(cancellationToken) && _requests.Reader.TryRead(out var message))
        {
            Current = message;
            return true;
        }
        return false;
    }

    public Task WriteAsync(ServerMessage message) => WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(ServerMessage message, CancellationToken cancellationToken)
    {
        _responses.Writer.TryWrite(message);
        return Task.CompletedTask;
    }
}
