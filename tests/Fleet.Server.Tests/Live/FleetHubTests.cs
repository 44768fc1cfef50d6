using System.Threading.Channels;
using Fleet.Contracts.V1;
using Fleet.Server.Live;
using Fleet.Server.Tests.Hosting;
using Fleet.Server.Tests.Ingest;
using Fleet.Web.Data;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Fleet.Server.Tests.Infrastructure;

namespace Fleet.Server.Tests.Live;

/// <summary>The real server on Kestrel, an agent stream over real gRPC, and a SignalR client on the hub (storage is the in-memory fake).</summary>
public sealed class FleetHubTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly FleetServerFactory _factory = new();
    private GrpcChannel _channel = null!;
    private Uri _http = null!;
    private string _token = "";

    public Task InitializeAsync()
    {
        var (http, grpc) = _factory.Start();
        _http = http;
        _channel = GrpcChannel.ForAddress(grpc);
        _token = _factory.Store.AddKnownToken("hub-tests");
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _channel.Dispose();
        _factory.Dispose();
    }

    private async Task<(HubConnection Connection, Channel<LiveSnapshot> Received)> ConnectAsync(CancellationToken ct)
    {
        var received = Channel.CreateUnbounded<LiveSnapshot>();
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(_http, FleetHub.Path), o => o.Headers[TestSignIn.RoleHeader] = FleetRoles.Viewer)
            .Build();
        connection.On<LiveSnapshot>(FleetHub.SnapshotStoredMethod, s => received.Writer.TryWrite(s));
        await connection.StartAsync(ct);
        return (connection, received);
    }

    private async Task StreamAsync(IEnumerable<Snapshot> snapshots, CancellationToken ct)
    {
        using var call = new AgentIngest.AgentIngestClient(_channel).Connect(cancellationToken: ct);
        await call.RequestStream.WriteAsync(TestSnapshots.HelloMessage(_token, "agent-hub"), ct);
        Assert.True(await call.ResponseStream.MoveNext(ct));
        foreach (var snapshot in snapshots)
        {
            await call.RequestStream.WriteAsync(TestSnapshots.SnapshotMessage(snapshot), ct);
            Assert.True(await call.ResponseStream.MoveNext(ct));
            Assert.Equal(ServerMessage.BodyOneofCase.Ack, call.ResponseStream.Current.BodyCase);
        }
        await call.RequestStream.CompleteAsync();
    }

    [Fact]
    public async Task HostSubscriber_ReceivesEachStoredSnapshotOfItsHost()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var (connection, received) = await ConnectAsync(cts.Token);
        await using var _ = connection;
        await connection.InvokeAsync("SubscribeHost", TestSnapshots.Hostname, cts.Token);

        await StreamAsync([TestSnapshots.Valid(1), TestSnapshots.Valid(2)], cts.Token);

        var first = await received.Reader.ReadAsync(cts.Token);
        var second = await received.Reader.ReadAsync(cts.Token);
        Assert.Equal((1ul, 2ul), (first.Host.Sequence, second.Host.Sequence));
        Assert.Equal(TestSnapshots.Hostname, second.Host.Name);
        Assert.Equal(6ul, second.Host.CloseWait);
        Assert.Equal("[2001:db8::1]:443", Assert.Single(Assert.Single(second.Services).CloseWaitRemotes).Remote);
    }

    [Fact]
    public async Task SubscriberOfAnotherHost_ReceivesNothing_ServiceAndFleetSubscribersDo()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var (other, otherReceived) = await ConnectAsync(cts.Token);
        var (service, serviceReceived) = await ConnectAsync(cts.Token);
        var (fleet, fleetReceived) = await ConnectAsync(cts.Token);
        await using var d1 = other;
        await using var d2 = service;
        await using var d3 = fleet;
        await other.InvokeAsync("SubscribeHost", "db-1", cts.Token);
        await service.InvokeAsync("SubscribeService", "app", cts.Token);
        await fleet.InvokeAsync("SubscribeFleet", cts.Token);

        await StreamAsync([TestSnapshots.Valid(1)], cts.Token);

        Assert.Equal(1ul, (await serviceReceived.Reader.ReadAsync(cts.Token)).Host.Sequence);
        Assert.Equal(1ul, (await fleetReceived.Reader.ReadAsync(cts.Token)).Host.Sequence);
        // Both copies were sent together with the other host's group (one send to all groups): nothing for db-1.
        await Task.Delay(TimeSpan.FromMilliseconds(300), cts.Token);
        Assert.False(otherReceived.Reader.TryRead(out _));
    }

    [Fact]
    public async Task Unsubscribe_StopsDelivery()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var (connection, received) = await ConnectAsync(cts.Token);
        var (witness, witnessReceived) = await ConnectAsync(cts.Token);
        await using var d1 = connection;
        await using var d2 = witness;
        await connection.InvokeAsync("SubscribeFleet", cts.Token);
        await witness.InvokeAsync("SubscribeFleet", cts.Token);
        await StreamAsync([TestSnapshots.Valid(1)], cts.Token);
        await received.Reader.ReadAsync(cts.Token);
        await witnessReceived.Reader.ReadAsync(cts.Token);

        await connection.InvokeAsync("UnsubscribeFleet", cts.Token);
        await StreamAsync([TestSnapshots.Valid(2)], cts.Token);

        Assert.Equal(2ul, (await witnessReceived.Reader.ReadAsync(cts.Token)).Host.Sequence);
        Assert.False(received.Reader.TryRead(out _));
    }

    [Fact]
    public async Task SubscribeWithAnOversizedName_FailsWithAMessageNamingTheLimit()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var (connection, _) = await ConnectAsync(cts.Token);
        await using var _d = connection;

        var ex = await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync("SubscribeHost", new string('h', 300), cts.Token));

        Assert.Contains("at most 256 characters", ex.Message, StringComparison.Ordinal);
        Assert.Equal(HubConnectionState.Connected, connection.State);
    }
}
