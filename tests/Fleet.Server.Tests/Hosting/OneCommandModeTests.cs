using System.Net;
using System.Text.Json;
using Fleet.Contracts.V1;
using Fleet.Server.Tests.Ingest;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Fleet.Server.Tests.Infrastructure;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Hosting;

/// <summary>
/// The server as <c>dotnet run --project server</c> starts it without a connection string: a private PostgreSQL
/// cluster, migrations, real storage, and the in-process agent streaming this machine over loopback gRPC.
/// </summary>
public sealed class OneCommandModeTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"fleet-onecommand-{Guid.NewGuid():N}");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task WithoutConnectionString_RunsOwnDatabaseAndAgent_AndThisHostAppearsInTheApi()
    {
        using var cts = new CancellationTokenSource(Deadline);
        string dataDirectory = Path.Combine(_root, "postgres");
        var factory = OneCommandServer(dataDirectory);
        try
        {
            var (http, grpc) = factory.Start();
            using var client = new HttpClient { BaseAddress = http, Timeout = Deadline }.As(FleetRoles.Viewer);

            var snapshot = await WaitForLatestAsync(client, cts.Token);
            using var ready = await client.GetAsync(new Uri("/healthz/ready", UriKind.Relative), cts.Token);

            Assert.NotEmpty(snapshot.Processes);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.True(Directory.Exists(Path.Combine(_root, "agent")), "the agent's state folder sits beside the database's");
            await BadTokenIsRefusedAsync(grpc, cts.Token);
        }
        finally
        {
            await factory.DisposeAsync().AsTask().WaitAsync(Deadline);
        }
        Assert.True(await ClusterStoppedAsync(dataDirectory), "the private cluster is stopped with the server");
    }

    [Fact]
    public async Task EachStart_RevokesTheTokensOfEarlierRuns_SoOneLocalAgentTokenIsLive()
    {
        using var cts = new CancellationTokenSource(Deadline * 2);
        string dataDirectory = Path.Combine(_root, "postgres");
        IReadOnlyList<EnrollmentTokenView> tokens = [];
        for (int run = 0; run < 2; run++)
        {
            var factory = OneCommandServer(dataDirectory);
            try
            {
                var (http, _) = factory.Start();
                using var client = new HttpClient { BaseAddress = http, Timeout = Deadline }.As(FleetRoles.Viewer);
                await WaitForLatestAsync(client, cts.Token);
                tokens = await factory.Services.GetRequiredService<IEnrollmentAdmin>().ListTokensAsync(cts.Token);
            }
            finally
            {
                await factory.DisposeAsync().AsTask().WaitAsync(Deadline);
            }
            Assert.True(await ClusterStoppedAsync(dataDirectory), "the private cluster is stopped before the next start");
        }

        var local = tokens.Where(t => t.Name == "local-agent").ToList();
        Assert.Equal(2, local.Count);
        Assert.Single(local, t => t.RevokedAt is null);
        Assert.All(local, t => Assert.Equal("one-command mode", t.CreatedBy));
    }

    /// <summary>
    /// The cluster is stopped as the host stops (pg_ctl stop -w, from the lifecycle's StoppedAsync). In about half the
    /// runs here that pg_ctl was still running when the factory's DisposeAsync returned: wait for the pid file to go,
    /// with a deadline (it must go, and soon).
    /// </summary>
    private static async Task<bool> ClusterStoppedAsync(string dataDirectory)
    {
        string pid = Path.Combine(dataDirectory, "postmaster.pid");
        var gone = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (File.Exists(pid) && DateTime.UtcNow < gone)
        {
            await Task.Delay(100);
        }
        return !File.Exists(pid);
    }

    /// <summary>The server as the one command starts it: no connection string, its own database in <paramref name="dataDirectory"/>, the local agent on.</summary>
    private static FleetServerFactory OneCommandServer(string dataDirectory) => new(
        new Dictionary<string, string?>
        {
            ["ConnectionStrings:Fleet"] = "",
            ["Fleet:LocalDatabase:DataDirectory"] = dataDirectory,
            ["Fleet:LocalAgent:Enabled"] = null,
            ["Fleet:Database:MigrateOnStart"] = "true",
            ["Fleet:AgentConfig:Interval"] = "00:00:01",
        },
        fakeStorage: false);

    /// <summary>Real storage refuses a token it never made.</summary>
    private static async Task BadTokenIsRefusedAsync(Uri grpc, CancellationToken ct)
    {
        using var channel = GrpcChannel.ForAddress(grpc);
        using var call = new AgentIngest.AgentIngestClient(channel).Connect(cancellationToken: ct);
        await call.RequestStream.WriteAsync(TestSnapshots.HelloMessage(EnrollmentTokensFor.Unknown), ct);
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(ct));
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    /// <summary>
    /// Polls until the local agent's first snapshot is stored: GET /api/hosts lists this host from its Hello,
    /// then GET /api/hosts/{name}/latest answers once a snapshot is committed (each try is one request).
    /// </summary>
    private static async Task<Snapshot> WaitForLatestAsync(HttpClient client, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            using var response = await client.GetAsync(new Uri("/api/hosts", UriKind.Relative), ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                using var hosts = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
                if (hosts.RootElement.GetArrayLength() > 0)
                {
                    string name = hosts.RootElement[0].GetProperty("name").GetString()!;
                    using var latest = await client.GetAsync(new Uri($"/api/hosts/{Uri.EscapeDataString(name)}/latest", UriKind.Relative), ct);
                    if (latest.StatusCode == HttpStatusCode.OK)
                    {
                        return Google.Protobuf.JsonParser.Default.Parse<Snapshot>(await latest.Content.ReadAsStringAsync(ct));
                    }
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
        }
    }

    private static class EnrollmentTokensFor
    {
        public static string Unknown { get; } = Fleet.Server.Ingest.EnrollmentTokens.Create().Token;
    }
}
