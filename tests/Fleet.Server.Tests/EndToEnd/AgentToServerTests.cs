using System.Net.Http.Json;
using System.Text.Json;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Fleet.Server.Tests.EndToEnd;

/// <summary>A real agent and a raw gRPC client against the real server, real storage in a fresh database.</summary>
[Collection(EndToEndSuite.Name)]
public sealed class AgentToServerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private EndToEndHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await EndToEndHarness.OnFreshDatabaseAsync(output);

    public async Task DisposeAsync()
    {
        // Null when InitializeAsync failed.
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    [Fact]
    public async Task AgentToServer_OverRealGrpc_StoresTheFiguresExactly()
    {
        // Arrange: this test process holds 3 CLOSE_WAIT sockets toward A and 2 toward B, and nothing else changes.
        using var sockets = new LoopbackCloseWait();
        var a = sockets.Listen();
        var b = sockets.Listen();
        for (int i = 0; i < 3; i++)
        {
            sockets.CloseWait(a);
        }
        for (int i = 0; i < 2; i++)
        {
            sockets.CloseWait(b);
        }
        int portA = LoopbackCloseWait.Port(a), portB = LoopbackCloseWait.Port(b);
        ulong nofileSoft = NoFileLimit.Soft();
        int pid = Environment.ProcessId;
        var server = _harness.StartServer();
        string token = await EndToEndHarness.CreateTokenAsync(server, "e2e-figures");

        // Act
        var agent = _harness.StartAgent(server.Grpc, token);
        await _harness.UntilAsync(() => agent.Acknowledged >= 3, () => $"3 snapshots acknowledged ({agent})");
        await agent.StopAsync();

        // Assert: the API lists this host and serves its latest snapshot with this process's figures.
        using var http = server.CreateHttpClient();
        var hosts = await http.GetFromJsonAsync<JsonElement>("/api/hosts").WaitAsync(EndToEndHarness.Deadline);
        var host = Assert.Single(hosts.EnumerateArray());
        string name = host.GetProperty("name").GetString()!;
        Assert.Equal(Environment.MachineName, name);
        string json = await http.GetStringAsync($"/api/hosts/{Uri.EscapeDataString(name)}/latest").WaitAsync(EndToEndHarness.Deadline);
        var latest = JsonParser.Default.Parse<Snapshot>(json);
        Assert.Equal(host.GetProperty("machineId").GetString(), latest.Host.MachineId);
        var self = Assert.Single(latest.Processes, p => p.Pid == pid);
        var remotes = self.CloseWaitRemotes.Where(r => r.Port == portA || r.Port == portB)
            .OrderBy(r => r.Port == portA ? 0 : 1)
            .Select(r => (r.Address, r.Port, r.Count));
        Assert.Equal([("127.0.0.1", (uint)portA, 3ul), ("127.0.0.1", (uint)portB, 2ul)], remotes);
        Assert.Equal(nofileSoft, self.NofileSoft);
        var service = Assert.Single(latest.Services, s => s.Name == self.Service);
        Assert.Equal(
            [("127.0.0.1", (uint)portA, 3ul), ("127.0.0.1", (uint)portB, 2ul)],
            service.CloseWaitRemotes.Where(r => r.Port == portA || r.Port == portB).OrderBy(r => r.Port == portA ? 0 : 1).Select(r => (r.Address, r.Port, r.Count)));
        Assert.True(host.GetProperty("closeWaitTotal").GetUInt64() >= 5, $"the host's CLOSE_WAIT total counts this process's 5: {host}");

        // Assert: the database holds each acknowledged snapshot once, with these figures in every one of them.
        var stored = await _harness.StoredAsync(agent.AgentId);
        _harness.AssertEverySequenceStoredOnce(stored, agent.Produced, agent.Spooled);
        var closeWait = await _harness.RowsAsync(
            "SELECT port, count, host(remote), time FROM close_wait_samples WHERE host_id = $1 AND pid = $2 AND port = ANY($3)",
            r => (Port: r.GetInt32(0), Count: r.GetInt32(1), Remote: r.GetString(2), Time: r.GetDateTime(3)),
            stored!.HostId, pid, new[] { portA, portB });
        foreach (var (port, count) in new[] { (portA, 3), (portB, 2) })
        {
            var rows = closeWait.Where(r => r.Port == port).ToList();
            Assert.Equal(stored.HostSamples, rows.Count);
            Assert.Equal(rows.Count, rows.Select(r => r.Time).Distinct().Count());
            Assert.All(rows, r => Assert.Equal(("127.0.0.1", count), (r.Remote, r.Count)));
        }
        var limits = await _harness.RowsAsync(
            "SELECT DISTINCT nofile_soft FROM process_samples WHERE host_id = $1 AND pid = $2", r => r.GetInt32(0), stored.HostId, pid);
        Assert.Equal([nofileSoft > int.MaxValue ? -1 : (int)nofileSoft], limits);
        Assert.Equal(stored.HostSamples, await _harness.ScalarAsync("SELECT count(*) FROM process_samples WHERE host_id = $1 AND pid = $2", stored.HostId, pid));
    }

    [Fact]
    public async Task BadToken_IsRefusedAndNothingStored()
    {
        // Arrange: a token in the right form that the server never made.
        var server = _harness.StartServer();
        await EndToEndHarness.CreateTokenAsync(server, "e2e-real-token");
        string wrong = EnrollmentTokens.Create().Token;

        // Act
        var agent = _harness.StartAgent(server.Grpc, wrong);
        await _harness.UntilAsync(
            () => _harness.Logs.Count("agent#", "TokenRefused") >= 3 && _harness.Logs.Count("Fleet.Server", "TokenRefused", "(unknown)") >= 3,
            () => $"the token refused three times, logged by both sides ({agent})");
        long producedBefore = agent.Produced;
        await _harness.UntilAsync(() => agent.Produced > producedBefore + 1, () => $"the refused agent still collecting ({agent})");

        // Assert: the agent goes on (collecting, spooling, retrying); nothing of it reached the database.
        Assert.True(agent.IsRunning);
        Assert.False(agent.IsConnected);
        Assert.Equal(0, agent.Acknowledged);
        Assert.True(agent.Spooled >= producedBefore, agent.ToString());
        Assert.Equal(0, await _harness.ScalarAsync("SELECT count(*) FROM hosts"));
        Assert.Equal(0, await _harness.ScalarAsync("SELECT count(*) FROM agents"));
        Assert.Equal(0, await _harness.ScalarAsync("SELECT count(*) FROM host_samples"));
        Assert.Equal(0, await _harness.ScalarAsync("SELECT count(*) FROM process_samples"));
    }

    [Fact]
    public async Task MalformedSnapshot_IsRejectedNamingTheFieldAndTheStreamContinues()
    {
        // Arrange: a raw client on the real server's gRPC endpoint, welcomed with a real token.
        var server = _harness.StartServer();
        string token = await EndToEndHarness.CreateTokenAsync(server, "e2e-malformed");
        string agentId = $"e2e-{Guid.NewGuid():N}";
        using var channel = GrpcChannel.ForAddress(server.Grpc, new GrpcChannelOptions { MaxSendMessageSize = null });
        using var cts = new CancellationTokenSource(EndToEndHarness.Deadline);
        using var call = new AgentIngest.AgentIngestClient(channel).Connect(deadline: DateTime.UtcNow.Add(EndToEndHarness.Deadline), cancellationToken: cts.Token);
        await call.RequestStream.WriteAsync(Ingest.TestSnapshots.HelloMessage(token, agentId), cts.Token);
        Assert.Equal(ServerMessage.BodyOneofCase.Welcome, (await NextAsync(call, cts.Token)).BodyCase);
        var longCmdline = Ingest.TestSnapshots.Valid(1);
        longCmdline.Processes[0].Cmdline = new string('x', 100 * 1024);
        var badAddress = Ingest.TestSnapshots.Valid(2);
        badAddress.Processes[2].CloseWaitRemotes[0].Address = "not-an-address";
        // Whole microseconds, as PostgreSQL keeps them.
        var now = DateTimeOffset.UtcNow;
        var valid = Ingest.TestSnapshots.Valid(3, now.AddTicks(-(now.Ticks % 10)));

        // Act
        await call.RequestStream.WriteAsync(Ingest.TestSnapshots.SnapshotMessage(longCmdline), cts.Token);
        var first = await NextAsync(call, cts.Token);
        await call.RequestStream.WriteAsync(Ingest.TestSnapshots.SnapshotMessage(badAddress), cts.Token);
        var second = await NextAsync(call, cts.Token);
        await call.RequestStream.WriteAsync(Ingest.TestSnapshots.SnapshotMessage(valid), cts.Token);
        var third = await NextAsync(call, cts.Token);
        await call.RequestStream.CompleteAsync().WaitAsync(cts.Token);
        Assert.False(await call.ResponseStream.MoveNext(cts.Token), "the server should end the stream after the agent's end");

        // Assert: two rejections naming the field, then the acknowledgement; only the valid one stored.
        Assert.Equal(ServerMessage.BodyOneofCase.Rejection, first.BodyCase);
        Assert.Equal((1ul, "processes[0].cmdline"), (first.Rejection.Sequence, first.Rejection.Field));
        Assert.Equal(ServerMessage.BodyOneofCase.Rejection, second.BodyCase);
        Assert.Equal((2ul, "processes[2].close_wait_remotes[0].address"), (second.Rejection.Sequence, second.Rejection.Field));
        Assert.Equal(ServerMessage.BodyOneofCase.Ack, third.BodyCase);
        Assert.Equal((3ul, false), (third.Ack.Sequence, third.Ack.Duplicate));
        var stored = await _harness.StoredAsync(agentId);
        Assert.NotNull(stored);
        Assert.Equal((3L, 1L, 3ul), (stored.LastCommittedSequence, stored.HostSamples, stored.LatestSequence));
        var times = await _harness.RowsAsync(
            "SELECT DISTINCT time FROM process_samples WHERE host_id = $1 UNION SELECT DISTINCT time FROM close_wait_samples WHERE host_id = $1",
            r => r.GetFieldValue<DateTimeOffset>(0), stored.HostId);
        Assert.Equal([valid.CollectedAt.ToDateTimeOffset()], times);
        Assert.Equal(
            valid.Processes.Sum(p => p.CloseWaitRemotes.Count),
            await _harness.ScalarAsync("SELECT count(*) FROM close_wait_samples WHERE host_id = $1", stored.HostId));
    }

    private static async Task<ServerMessage> NextAsync(AsyncDuplexStreamingCall<AgentMessage, ServerMessage> call, CancellationToken ct)
    {
        Assert.True(await call.ResponseStream.MoveNext(ct), "the server ended the stream");
        return call.ResponseStream.Current;
    }
}
