using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Fleet.Server.Tests.Ingest;

/// <summary>Revoking an enrollment token cuts the streams opened with it (the ingestor and the stream registry, in memory).</summary>
public sealed class RevocationTests : IAsyncLifetime, IDisposable
{
    private const string Peer = IngestorRig.Peer;

    private readonly IngestorRig _rig = new();
    private readonly FakeIngestStore _store;
    private readonly AgentStreams _streams;
    private readonly ListLogger<SnapshotIngestor> _log;
    private readonly SnapshotIngestor _ingestor;

    public RevocationTests() => (_store, _streams, _log, _ingestor) = (_rig.Store, _rig.Streams, _rig.Log, _rig.Ingestor);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    public void Dispose() => _rig.Dispose();

    private async Task<(TestStream Stream, Task Session)> ConnectAsync(string token, string agentId)
    {
        var stream = new TestStream();
        var session = _ingestor.RunAsync(stream, stream, Peer, CancellationToken.None);
        stream.Send(TestSnapshots.HelloMessage(token, agentId));
        Assert.Equal(ServerMessage.BodyOneofCase.Welcome, (await stream.ReceiveAsync()).BodyCase);
        return (stream, session);
    }

    [Fact]
    public async Task Revoke_CutsTheStreamsOpenedWithThatToken_AndNoOther()
    {
        using var a = await _streams.ClaimAsync("agent-a", 7, TimeSpan.FromSeconds(1), CancellationToken.None);
        using var b = await _streams.ClaimAsync("agent-b", 7, TimeSpan.FromSeconds(1), CancellationToken.None);
        using var c = await _streams.ClaimAsync("agent-c", 8, TimeSpan.FromSeconds(1), CancellationToken.None);

        int cut = _streams.Revoke(7);

        Assert.Equal(2, cut);
        Assert.True(a.Revoked.IsCancellationRequested);
        Assert.True(b.Revoked.IsCancellationRequested);
        Assert.False(c.Revoked.IsCancellationRequested);
        Assert.False(a.Replaced.IsCancellationRequested);
    }

    [Fact]
    public async Task Claim_WithATokenRevokedAfterItsHelloWasChecked_IsCutAsItOpens()
    {
        // The stream's token was found valid, then revoked before the stream claimed its place.
        _streams.Revoke(9);

        using var lease = await _streams.ClaimAsync("agent-late", 9, TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.True(lease.Revoked.IsCancellationRequested);
    }

    [Fact]
    public async Task TokenRevokedMidStream_EndsTheCallWithUnauthenticatedRevoked_KeepsWhatWasAcknowledged_AndTheReconnectIsRefused()
    {
        string token = _store.AddKnownToken("web");
        string other = _store.AddKnownToken("db");
        var (stream, session) = await ConnectAsync(token, "agent-web");
        var (otherStream, otherSession) = await ConnectAsync(other, "agent-db");
        for (ulong seq = 1; seq <= 3; seq++)
        {
            stream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(seq)));
            Assert.Equal(seq, (await stream.ReceiveAsync()).Ack.Sequence);
        }

        // Act: what the admin's revocation does (storage first, then this server's streams).
        _store.Revoke("web");
        int cut = _streams.Revoke(_store.TokenId("web"));

        // Assert: the call ends at once with the reason; the acknowledged snapshots stay; the other agent streams on.
        Assert.Equal(1, cut);
        var ex = await Assert.ThrowsAsync<RpcException>(() => session.WaitAsync(TestStream.Timeout));
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Equal("enrollment token revoked", ex.Status.Detail);
        Assert.Equal([1ul, 2ul, 3ul], _store.Stored.Where(s => s.AgentId == "agent-web").Select(s => s.Snapshot.Sequence));
        Assert.Contains(_log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("'web' was revoked", StringComparison.Ordinal));
        Assert.False(_streams.IsOpen("agent-web"));
        otherStream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(1)));
        Assert.Equal(1ul, (await otherStream.ReceiveAsync()).Ack.Sequence);

        // Assert: the agent's reconnect is refused by the token check.
        var again = new TestStream();
        var refused = _ingestor.RunAsync(again, again, Peer, CancellationToken.None);
        again.Send(TestSnapshots.HelloMessage(token, "agent-web"));
        var refusal = await Assert.ThrowsAsync<RpcException>(() => refused.WaitAsync(TestStream.Timeout));
        Assert.Equal(StatusCode.Unauthenticated, refusal.StatusCode);
        Assert.Equal("enrollment token refused", refusal.Status.Detail);
        otherStream.Complete();
        await otherSession.WaitAsync(TestStream.Timeout);
    }

    [Fact]
    public async Task TokenRevokedWhileASnapshotIsBeingStored_StoresItWhole_ButDoesNotAcknowledgeIt()
    {
        string token = _store.AddKnownToken("web");
        var (stream, session) = await ConnectAsync(token, "agent-web");
        stream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(1)));
        Assert.Equal(1ul, (await stream.ReceiveAsync()).Ack.Sequence);
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _store.BeforeStore = async _ =>
        {
            holding.TrySetResult();
            await release.Task;
        };
        stream.Send(TestSnapshots.SnapshotMessage(TestSnapshots.Valid(2)));
        await holding.Task.WaitAsync(TestStream.Timeout);

        // Act: revoked while snapshot 2 is in the database's hands; then the database answers.
        _streams.Revoke(_store.TokenId("web"));
        release.SetResult();

        // Assert: the stream ends with the reason, snapshot 2 went in whole (its batch committed) but was never
        // acknowledged: the agent keeps it spooled, and storage would answer its resend as a duplicate.
        var ex = await Assert.ThrowsAsync<RpcException>(() => session.WaitAsync(TestStream.Timeout));
        Assert.Equal("enrollment token revoked", ex.Status.Detail);
        Assert.Equal([1ul, 2ul], _store.Stored.Select(s => s.Snapshot.Sequence));
        Assert.True(stream.NothingMoreReceived);
    }

    [Fact]
    public async Task Watch_CutsStreamsWhoseTokenWasRevokedElsewhere_OnItsNextTick()
    {
        string token = _store.AddKnownToken("web");
        var (_, session) = await ConnectAsync(token, "agent-web");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = Options.Create(new IngestOptions { RevocationCheckInterval = TimeSpan.FromMinutes(1) });
        using var watch = new RevocationWatch(_streams, _store, options, time, new ListLogger<RevocationWatch>());
        await watch.StartAsync(CancellationToken.None);

        // Act: another server revoked the token in the database; minutes pass (the watch's timer may start late).
        _store.Revoke("web");
        await IngestWait.UntilAsync(
            () =>
            {
                time.Advance(TimeSpan.FromMinutes(1));
                return session.IsCompleted;
            },
            () => $"the stream cut after a revocation check ({_store.RevocationChecks} checks)");

        // Assert
        var ex = await Assert.ThrowsAsync<RpcException>(() => session.WaitAsync(TestStream.Timeout));
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Equal("enrollment token revoked", ex.Status.Detail);
        await watch.StopAsync(CancellationToken.None).WaitAsync(TestStream.Timeout);
    }

    [Fact]
    public async Task Watch_WithoutOpenStreams_DoesNotAskStorage_AndWithThemAsksOncePerTick()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = Options.Create(new IngestOptions { RevocationCheckInterval = TimeSpan.FromMinutes(1) });
        var watch = new RevocationWatch(_streams, _store, options, time, new ListLogger<RevocationWatch>());

        Assert.Equal(0, await watch.CheckAsync(CancellationToken.None).WaitAsync(TestStream.Timeout));
        Assert.Equal(0, _store.RevocationChecks);

        string token = _store.AddKnownToken("web");
        var (stream, session) = await ConnectAsync(token, "agent-web");
        Assert.Equal(0, await watch.CheckAsync(CancellationToken.None).WaitAsync(TestStream.Timeout));
        Assert.Equal(1, _store.RevocationChecks);
        Assert.True(_streams.IsOpen("agent-web"));
        stream.Complete();
        await session.WaitAsync(TestStream.Timeout);
    }
}
