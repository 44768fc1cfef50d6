using Fleet.Server.LocalDatabase;
using Npgsql;
using Xunit.Abstractions;

namespace Fleet.Server.Tests.EndToEnd;

/// <summary>
/// PostgreSQL stops under a streaming agent and comes back. The cluster is this class's own (on a fixed port,
/// so that the server's connection string holds across the restart): the shared one serves other tests.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class PostgresRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"fleet-e2e-pg-{Guid.NewGuid():N}");
    private LocalPostgres _cluster = null!;
    private EndToEndHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _cluster = await StartClusterAsync(_dataDirectory);
        await using (var conn = new NpgsqlConnection(_cluster.ConnectionString()))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE DATABASE fleet_e2e", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        _harness = EndToEndHarness.OnDatabase(_cluster.ConnectionString("fleet_e2e"), output);
    }

    /// <summary>A cluster of its own on a fixed port (a restart keeps it), tuned for tests like the shared one.</summary>
    private static async Task<LocalPostgres> StartClusterAsync(string dataDirectory)
    {
        var cluster = new LocalPostgres(new LocalPostgresOptions
        {
            DataDirectory = dataDirectory,
            Port = EndToEndHarness.FreePort(),
            Settings = new Dictionary<string, string>
            {
                ["fsync"] = "off",
                ["synchronous_commit"] = "off",
                ["full_page_writes"] = "off",
            },
        });
        await cluster.StartAsync().WaitAsync(EndToEndHarness.Deadline);
        return cluster;
    }

    public async Task DisposeAsync()
    {
        // Either is null when InitializeAsync failed.
        try
        {
            if (_harness is not null)
            {
                await _harness.DisposeAsync();
            }
        }
        finally
        {
            if (_cluster is not null)
            {
                await _cluster.StopAsync().WaitAsync(EndToEndHarness.Deadline);
            }
            if (Directory.Exists(_dataDirectory))
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task PostgresRestartedDuringIngest_NothingLost()
    {
        // Arrange: an agent streaming to the server.
        var server = _harness.StartServer();
        string token = await EndToEndHarness.CreateTokenAsync(server, "e2e-postgres-restart");
        var agent = _harness.StartAgent(server.Grpc, token);
        await _harness.UntilAsync(() => agent.Acknowledged >= 3, () => $"3 snapshots acknowledged ({agent})");

        // Act: the database goes away for a few seconds; the server answers Unavailable, the agent spools and retries.
        await _cluster.StopAsync().WaitAsync(EndToEndHarness.Deadline);
        long producedAtStop = agent.Produced;
        await _harness.UntilAsync(
            () => _harness.Logs.Count("Fleet.Server", "StorageFailed") >= 1
                && _harness.Logs.Count("agent#", "StreamDown", "Unavailable") + _harness.Logs.Count("agent#", "StillUnreachable", "Unavailable") >= 1
                && agent.Produced >= producedAtStop + 3
                && agent.Spooled >= 3,
            () => $"the server answered Unavailable and the agent spooled 3 more ({agent})");
        await _cluster.StartAsync().WaitAsync(EndToEndHarness.Deadline);
        long producedAtRestart = agent.Produced;
        await _harness.UntilAsync(
            () => agent.IsConnected && agent.Produced > producedAtRestart && agent.Spooled == 0,
            () => $"everything produced acknowledged after the database came back ({agent})");
        await agent.StopAsync();

        // Assert
        _harness.AssertEverySequenceStoredOnce(await _harness.StoredAsync(agent.AgentId), agent.Produced, agent.Spooled);
    }
}
