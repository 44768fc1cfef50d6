using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Fleet.Server.Tests.Ingest;

public sealed class SnapshotIngestorTests : IAsyncLifetime, IDisposable
{
    private const string Peer = IngestorRig.Peer;

    private readonly IngestorRig _rig = new();
    private readonly FakeIngestStore _store;
    private readonly AgentConfigPublisher _config;
    private readonly AgentStreams _streams;
    private readonly ListLogger<SnapshotIngestor> _log;
    private readonly SnapshotIngestor _ingestor;
    private readonly string _token;

    public SnapshotIngestorTests()
    {
        (_store, _config, _streams, _log, _ingestor) = (_rig.Store, _rig.Config, _rig.Streams, _rig.Log, _rig.Ingestor);
        _token = _store.AddKnownToken("ops");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    public void Dispose() => _rig.Dispose();

    private Task Run(TestStream stream, CancellationToken ct = default) => _ingestor.RunAsync(stream, stream, Peer, ct);

    private async Task<(TestStream Stream, Task Session, Welcome Welcome)> ConnectAsync(string agentId = "agent-1", CancellationToken ct = default)
    {
        var stream = new TestStream();
        var session = Run(stream, ct);
        stream.Send(TestSnapshots.HelloMessage(_token, agentId));
        var first = await stream.ReceiveAsync();
        Assert.Equal(ServerMessage.BodyOneofCase.Welcome, first.BodyCase);
        return (stream, session, first.Welcome);
    }

    private static async Task<RpcException> FailsAsync(Task session) =>
        await Assert.ThrowsAsync<RpcException>(() => session.WaitAsync(TestStream.Timeout));

    [Fact]
    public async Task FirstMessageSnapshot_FailsWithInvalidArgument()
    {
        var stream = new TestStream();
        var session = Run(stream);

        stream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(1)));

        var ex = await FailsAsync(session);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("first message must be hello", ex.Status.Detail);
        Assert.Empty(_store.Stored);
    }

    [Fact]
    public async Task UnknownToken_FailsUnauthenticated_AndLogsPeerAndAgentButNotToken()
    {
        var stream = new TestStream();
        var session = Run(stream);
        string wrong = EnrollmentTokens.Create().Token;

        stream.Send(TestSnapshots.HelloMessage(wrong, "agent-x"));

        var ex = await FailsAsync(session);
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Equal("enrollment token refused", ex.Status.Detail);
        var line = Assert.Single(_log.Lines, l => l.Level == LogLevel.Warning).Message;
        Assert.Contains(Peer, line, StringComparison.Ordinal);
        Assert.Contains("agent-x", line, StringComparison.Ordinal);
        Assert.Contains(TestSnapshots.Hostname, line, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, line, StringComparison.Ordinal);
        Assert.Empty(_store.Hellos);
    }

    [Fact]
    public async Task RevokedToken_FailsUnauthenticated()
    {
        string revoked = _store.AddKnownToken("old", revoked: true);
        var stream = new TestStream();
        var session = Run(stream);

        stream.Send(TestSnapshots.HelloMessage(revoked));

        Assert.Equal(StatusCode.Unauthenticated, (await FailsAsync(session)).StatusCode);
    }

    [Fact]
    public async Task EmptyToken_FailsUnauthenticated()
    {
        var stream = new TestStream();
        var session = Run(stream);

        stream.Send(TestSnapshots.HelloMessage(""));

        Assert.Equal(StatusCode.Unauthenticated, (await FailsAsync(session)).StatusCode);
    }

    [Fact]
    public async Task HelloWithoutAgentId_FailsInvalidArgumentNamingTheField()
    {
        var stream = new TestStream();
        var session = Run(stream);

        stream.Send(TestSnapshots.HelloMessage(_token, agentId: ""));

        var ex = await FailsAsync(session);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("hello.agent_id", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hello_IsAnsweredWithWelcomeCarryingLastCommittedAndConfig()
    {
        _store.Commit("agent-1", 41);

        var (stream, session, welcome) = await ConnectAsync();

        Assert.Equal(41ul, welcome.LastCommittedSequence);
        Assert.Equal(TimeSpan.FromSeconds(10), welcome.Config.Interval.ToTimeSpan());
        var hello = Assert.Single(_store.Hellos);
        Assert.Equal(Peer, hello.PeerAddress);
        Assert.Equal(TestSnapshots.Hostname, hello.Host.Hostname);
        stream.Complete();
        await session.WaitAsync(TestStream.Timeout);
    }

    [Fact]
    public async Task ValidSnapshot_IsStoredAndAcked()
    {
        var (stream, session, _) = await ConnectAsync();

        stream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(1)));

        var ack = (await stream.ReceiveAsync()).Ack;
        Assert.Equal(1ul, ack.Sequence);
        Assert.False(ack.Duplicate);
        Assert.Single(_store.Stored);
        stream.Complete();
        await session.WaitAsync(TestStream.Timeout);
    }

    [Fact]
    public async Task ReplayedSnapshot_IsAckedAsDuplicateAndStoredOnce()
    {
        var (stream, session, _) = await ConnectAsync();

        stream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(5)));
        stream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(5)));

        Assert.False((await stream.ReceiveAsync()).Ack.Duplicate);
        var second = (await stream.ReceiveAsync()).Ack;
        Assert.Equal(5ul, second.Sequence);
        Assert.True(second.Duplicate);
        Assert.Single(_store.Stored);
        stream.Complete();
        await session.WaitAsync(TestStream.Timeout);
    }

    [Fact]
    public async Task StorageThrowing_FailsUnavailableWithoutAck_AndTheReplayIsStoredAfterReconnect()
    {
        var (stream, session, _) = await ConnectAsync();
        _store.StoreFailure = new NpgsqlException("connection refused");

        stream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(3)));

        var ex = await FailsAsync(session);
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.StartsWith("storage unavailable: ", ex.Status.Detail, StringComparison.Ordinal);
        Assert.True(stream.NothingMoreReceived);
        Assert.Empty(_store.Stored);

        // The database is back: the agent reconnects and replays from its spool.
        _store.StoreFailure = null;
        var (again, session2, welcome) = await ConnectAsync();
        Assert.Equal(0ul, welcome.LastCommittedSequence);
        again.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(3)));
        Assert.Equal(3ul, (await again.ReceiveAsync()).Ack.Sequence);
        Assert.Single(_store.Stored);
        again.Complete();
        await session2.WaitAsync(TestStream.Timeout);
    }

    [Fact]
    public async Task StorageThrowing_WithSeveralSnapshotsInFlight_AcksNoneAndStoresNothingAfterTheFailure()
    {
        var (stream, session, _) = await ConnectAsync();
        _store.StoreFailure = new NpgsqlException("connection refused");

        for (ulong seq = 1; seq <= 5; seq++)
        {
            stream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(seq)));
        }

        Assert.Equal(StatusCode.Unavailable, (await FailsAsync(session)).StatusCode);
        Assert.True(stream.NothingMoreReceived);
        Assert.Empty(_store.Stored);
        // Only the first batch reached the store: what the stream had submitted after it failed without being written.
        Assert.Single(_store.BatchSizes);
    }

    [Fact]
    public async Task TokenLookupThrowing_FailsUnavailableNotUnauthenticated()
    {
        _store.TokenLookupFailure = new TimeoutException("database timeout");
        var stream = new TestStream();
        var session = Run(stream);

        stream.Send(TestSnapshots.HelloMessage(_token));

        Assert.Equal(StatusCode.Unavailable, (await FailsAsync(session)).StatusCode);
    }

    [Fact]
    public async Task InvalidSnapshot_GetsRejectionNamingField_StreamStaysUp_NextValidIsAcked()
    {
        var (stream, session, _) = await ConnectAsync();
        var bad = TestSnapshots.Valid(1);
        bad.Processes[1].Cmdline = new string('x', 10_000);

        stream.Send(TestSnapshots.SnapshotMessage(bad));
        stream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(2)));

        var rejection = (await stream.ReceiveAsync()).Rejection;
        Assert.Equal(1ul, rejection.Sequence);
        Assert.Equal("processes[1].cmdline", rejection.Field);
        Assert.NotEmpty(rejection.Reason);
        Assert.Equal(2ul, (await stream.ReceiveAsync()).Ack.Sequence);
        Assert.Equal([2ul], _store.Stored.Select(s => s.Snapshot.Sequence));
        Assert.Contains(_log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("processes[1].cmdline", StringComparison.Ordinal));
        stream.Complete();
        await session.WaitAsync(TestStream.Timeout);
    }

    [Fact]
    public async Task SnapshotsOfOneStream_AreAckedInOrder()
    {
        var (stream, session, _) = await ConnectAsync();

        for (ulong seq = 1; seq <= 20; seq++)
        {
            stream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(seq)));
        }

        for (ulong seq = 1; seq <= 20; seq++)
        {
            Assert.Equal(seq, (await stream.ReceiveAsync()).Ack.Sequence);
        }
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (ulong)i), _store.Stored.Select(s => s.Snapshot.Sequence));
        stream.Complete();
        await session.WaitAsync(TestStream.Timeout);
    }

    [Fact]
    public async Task SecondHello_FailsInvalidArgument()
    {
        var (stream, session, _) = await ConnectAsync();

        stream.Send(TestSnapshots.HelloMessage(_token));

        Assert.Equal(StatusCode.InvalidArgument, (await FailsAsync(session)).StatusCode);
    }

    [Fact]
    public async Task PublishedConfig_ReachesOpenSession()
    {
        var (stream, session, _) = await ConnectAsync();
        var config = new AgentConfig
        {
            Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(30)),
            GroupingRules = { new GroupingRule { Field = GroupingRule.Types.Field.Comm, Pattern = "^java$", ServiceTemplate = "java" } },
        };

        _config.Publish(config);

        var pushed = await stream.ReceiveAsync();
        Assert.Equal(ServerMessage.BodyOneofCase.Config, pushed.BodyCase);
        Assert.Equal(config, pushed.Config);
        stream.Complete();
        await session.WaitAsync(TestStream.Timeout);
        Assert.Equal(0, _config.SubscriberCount);
    }

    [Fact]
    public async Task NewStreamOfSameAgent_EndsTheOldOneWithAborted()
    {
        var (old, oldSession, _) = await ConnectAsync("agent-7");

        var (fresh, freshSession, _) = await ConnectAsync("agent-7");

        var ex = await FailsAsync(oldSession);
        Assert.Equal(StatusCode.Aborted, ex.StatusCode);
        fresh.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(1)));
        Assert.Equal(1ul, (await fresh.ReceiveAsync()).Ack.Sequence);
        Assert.True(_streams.IsOpen("agent-7"));
        fresh.Complete();
        await freshSession.WaitAsync(TestStream.Timeout);
        Assert.False(_streams.IsOpen("agent-7"));
        GC.KeepAlive(old);
    }

    [Fact]
    public async Task StreamsOfDifferentAgents_RunSideBySide()
    {
        var (a, sessionA, _) = await ConnectAsync("agent-a");
        var (b, sessionB, _) = await ConnectAsync("agent-b");

        a.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(1)));
        b.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(1)));

        Assert.False((await a.ReceiveAsync()).Ack.Duplicate);
        Assert.False((await b.ReceiveAsync()).Ack.Duplicate);
        Assert.Equal(2, _streams.Count);
        a.Complete();
        b.Complete();
        await Task.WhenAll(sessionA, sessionB).WaitAsync(TestStream.Timeout);
    }

    [Fact]
    public async Task CancelledCall_EndsTheSessionAndReleasesTheAgent()
    {
        using var cts = new CancellationTokenSource();
        var (_, session, _) = await ConnectAsync("agent-c", cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => session.WaitAsync(TestStream.Timeout));
        Assert.False(_streams.IsOpen("agent-c"));
    }

    [Fact]
    public async Task ServerStopping_EndsOpenStreamsWithUnavailable_AndRefusesNewOnes()
    {
        var (_, session, _) = await ConnectAsync();

        await _streams.StopAllAsync(CancellationToken.None).WaitAsync(TestStream.Timeout);

        var ex = await FailsAsync(session);
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal(0, _streams.Count);
        var late = new TestStream();
        var lateSession = Run(late);
        late.Send(TestSnapshots.HelloMessage(_token, "agent-late"));
        Assert.Equal(StatusCode.Unavailable, (await FailsAsync(lateSession)).StatusCode);
    }
}
