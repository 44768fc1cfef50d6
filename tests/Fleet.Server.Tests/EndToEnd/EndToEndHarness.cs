using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Fleet.Agent.Streaming;
using Fleet.Contracts.V1;
using Fleet.Server.Cli;
using Fleet.Server.Ingest;
using Fleet.Server.Tests.Hosting;
using Fleet.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xunit.Abstractions;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.EndToEnd;

/// <summary>
/// What one end-to-end test runs on one database: servers (the real one on Kestrel, real storage), agents
/// (the real <see cref="AgentRunner"/> reading this machine's /proc) and their state folders, and the SQL that
/// reads back what was stored. Everything it started is stopped and removed in <see cref="DisposeAsync"/>, and
/// the servers' and agents' logs go to the test's output.
/// </summary>
internal sealed class EndToEndHarness : IAsyncDisposable
{
    /// <summary>The longest any one condition is waited for (the agent's reconnect backoff is capped at 30 s).</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    /// <summary>What the server tells agents: the shortest interval it allows.</summary>
    public static readonly TimeSpan ServerInterval = TimeSpan.FromSeconds(1);

    /// <summary>What the agents start with, until a Welcome brings <see cref="ServerInterval"/>.</summary>
    public static readonly TimeSpan AgentInterval = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(50);

    private readonly List<RunningAgent> _agents = [];
    private readonly List<RunningServer> _servers = [];
    private readonly List<string> _folders = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _connectionString;
    private readonly ITestOutputHelper _output;
    private readonly TestDatabase? _database;
    private int _agentCount;

    private EndToEndHarness(string connectionString, ITestOutputHelper output, TestDatabase? database)
    {
        _connectionString = connectionString;
        _output = output;
        _database = database;
    }

    /// <summary>A harness on a fresh database of the shared test cluster (dropped on dispose).</summary>
    public static async Task<EndToEndHarness> OnFreshDatabaseAsync(ITestOutputHelper output)
    {
        var database = await PostgresServer.CreateDatabaseAsync("e2e").WaitAsync(Deadline);
        return new EndToEndHarness(database.ConnectionString, output, database);
    }

    /// <summary>A harness on a database somebody else owns.</summary>
    public static EndToEndHarness OnDatabase(string connectionString, ITestOutputHelper output) => new(connectionString, output, null);

    public LogSink Logs { get; } = new();

    /// <summary>Starts the server on this database (migrated on start), HTTP on a free port, gRPC on <paramref name="grpcPort"/> (0: a free one).</summary>
    public RunningServer StartServer(int grpcPort = 0)
    {
        var server = RunningServer.Start(_connectionString, grpcPort, Logs);
        _servers.Add(server);
        Note($"server up: API {server.Http}, gRPC {server.Grpc}");
        return server;
    }

    /// <summary>An enrollment token made the way the server makes them, stored through the server's own storage.</summary>
    public static async Task<string> CreateTokenAsync(RunningServer server, string name)
    {
        var (token, hash) = EnrollmentTokens.Create();
        var store = server.Services.GetRequiredService<IIngestStore>();
        await store.AddTokenAsync(name, hash, CancellationToken.None).WaitAsync(Deadline);
        return token;
    }

    /// <summary>An enrollment token made with the server's <c>tokens create</c> command (migrates the database first), no server running.</summary>
    public async Task<string> CreateTokenWithCommandAsync(string name)
    {
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        int exit = await ServerCommandLine.RunAsync(["tokens", "create", name, $"--ConnectionStrings:Fleet={_connectionString}"], stdout, stderr)
            .WaitAsync(Deadline);
        Assert.True(exit == 0, $"tokens create exited with {exit}: {stderr}");
        return stdout.ToString().Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(EnrollmentTokens.Prefix, StringComparison.Ordinal));
    }

    /// <summary>A new, empty state folder for an agent; removed on dispose.</summary>
    public string NewStateDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"fleet-e2e-agent-{Guid.NewGuid():N}");
        _folders.Add(dir);
        return dir;
    }

    /// <summary>Starts a real agent toward <paramref name="grpc"/> collecting this machine's /proc.</summary>
    public RunningAgent StartAgent(Uri grpc, string token, string? stateDirectory = null)
    {
        int number = Interlocked.Increment(ref _agentCount);
        var runner = new AgentRunner(
            new AgentRunnerOptions
            {
                ServerAddress = grpc,
                EnrollmentToken = token,
                StateDirectory = stateDirectory ?? NewStateDirectory(),
                Interval = AgentInterval,
            },
            Logs.CreateLogger($"agent#{number}"));
        var agent = new RunningAgent(runner, $"agent#{number}");
        _agents.Add(agent);
        Note($"{agent.Name} started toward {grpc}");
        return agent;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="what"/> after <see cref="Deadline"/>, or at once when an agent died.</summary>
    public Task UntilAsync(Func<bool> condition, Func<string> what, TimeSpan? deadline = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, deadline);

    public async Task UntilAsync(Func<Task<bool>> condition, Func<string> what, TimeSpan? deadline = null)
    {
        var limit = deadline ?? Deadline;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            foreach (var agent in _agents)
            {
                agent.ThrowIfFailed();
            }
            if (await condition().WaitAsync(limit))
            {
                Note($"reached after {clock.Elapsed.TotalSeconds:F1} s: {what()}");
                return;
            }
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"not reached within {limit.TotalSeconds:F0} s: {what()}");
            }
            await Task.Delay(PollEvery);
        }
    }

    /// <summary>What the database holds for one agent (and its host).</summary>
    public async Task<StoredSeries?> StoredAsync(string agentId)
    {
        const string sql = """
            SELECT a.last_committed_sequence, h.id, h.hostname, h.latest_snapshot,
                   (SELECT count(*) FROM host_samples s WHERE s.host_id = h.id),
                   (SELECT count(DISTINCT s.time) FROM host_samples s WHERE s.host_id = h.id)
            FROM agents a JOIN hosts h ON h.id = a.host_id
            WHERE a.agent_id = $1
            """;
        await using var conn = new NpgsqlConnection(_connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn) { Parameters = { new() { Value = agentId } } };
        await using var reader = await cmd.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }
        ulong latest = reader.IsDBNull(3) ? 0 : Snapshot.Parser.ParseFrom(reader.GetFieldValue<byte[]>(3)).Sequence;
        return new StoredSeries(reader.GetInt64(0), reader.GetInt32(1), reader.GetString(2), latest, reader.GetInt64(4), reader.GetInt64(5));
    }

    public Task<long> ScalarAsync(string sql, params object[] parameters) => SqlQueries.ScalarAsync(_connectionString, sql, parameters);

    public Task<List<T>> RowsAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object[] parameters) =>
        SqlQueries.RowsAsync(_connectionString, sql, read, parameters);

    /// <summary>
    /// Every snapshot the agent produced and the server acknowledged is stored once: its last committed sequence
    /// is the last one produced, one host sample per sequence, none twice. An agent stopped right after taking a
    /// snapshot keeps that one spooled for its next start (at most one: the rest were acknowledged).
    /// </summary>
    public void AssertEverySequenceStoredOnce(StoredSeries? stored, long produced, int stillSpooled)
    {
        Note($"produced {produced}, still spooled {stillSpooled}, stored {stored}");
        Assert.NotNull(stored);
        Assert.InRange(stillSpooled, 0, 1);
        long committed = produced - stillSpooled;
        Assert.Equal(committed, stored.LastCommittedSequence);
        Assert.Equal(committed, stored.HostSamples);
        Assert.Equal(stored.HostSamples, stored.DistinctSampleTimes);
        Assert.Equal((ulong)committed, stored.LatestSequence);
    }

    /// <summary>A TCP port on 127.0.0.1 that nothing listens on now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Note(string message) => Logs.Note(message);

    public async ValueTask DisposeAsync()
    {
        var problems = new List<Exception>();
        foreach (var agent in _agents)
        {
            try
            {
                await agent.StopAsync();
            }
            catch (Exception e)
            {
                problems.Add(e);
            }
            finally
            {
                agent.Dispose();
            }
        }
        foreach (var server in _servers)
        {
            try
            {
                await server.DisposeAsync().AsTask().WaitAsync(Deadline);
            }
            catch (Exception e)
            {
                problems.Add(e);
            }
        }
        foreach (string dir in _folders.Where(Directory.Exists))
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException e)
            {
                problems.Add(e);
            }
        }
        Note($"torn down after {_clock.Elapsed.TotalSeconds:F1} s");
        Logs.WriteTo(_output);
        if (_database is not null)
        {
            try
            {
                await _database.DisposeAsync().AsTask().WaitAsync(Deadline);
            }
            catch (Exception e)
            {
                problems.Add(e);
            }
        }
        if (problems.Count > 0)
        {
            throw new AggregateException("tearing the end-to-end test down failed", problems);
        }
    }
}

/// <summary>What the database holds for one agent: its committed sequence, its host's samples and latest snapshot.</summary>
internal sealed record StoredSeries(long LastCommittedSequence, int HostId, string HostName, ulong LatestSequence, long HostSamples, long DistinctSampleTimes);

/// <summary>The real server (<see cref="FleetServerFactory"/> with real storage) on Kestrel, its logs kept.</summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private readonly FleetServerFactory _factory;
    private int _stopped;

    private RunningServer(FleetServerFactory factory, Uri http, Uri grpc)
    {
        _factory = factory;
        Http = http;
        Grpc = grpc;
    }

    public Uri Http { get; }

    public Uri Grpc { get; }

    public IServiceProvider Services => _factory.Services;

    public static RunningServer Start(string connectionString, int grpcPort, LogSink logs)
    {
        var factory = new FleetServerFactory(
            new Dictionary<string, string?>
            {
                ["Fleet:Grpc:Url"] = $"http://127.0.0.1:{grpcPort.ToString(CultureInfo.InvariantCulture)}",
                ["ConnectionStrings:Fleet"] = connectionString,
                ["Fleet:Database:MigrateOnStart"] = "true",
                ["Fleet:AgentConfig:Interval"] = EndToEndHarness.ServerInterval.ToString("c", CultureInfo.InvariantCulture),
                // What a production server accepts: a real host's snapshot may be larger than the factory's 1 MiB.
                ["Fleet:Ingest:MaxMessageSize"] = (16 * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
            },
            fakeStorage: false);
        try
        {
            var (http, grpc) = factory.Start();
            factory.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
            return new RunningServer(factory, http, grpc);
        }
        catch
        {
            factory.Dispose();
            throw;
        }
    }

    /// <summary>A client signed in as a viewer (the factory's test sign-in).</summary>
    public HttpClient CreateHttpClient() => new HttpClient { BaseAddress = Http, Timeout = TimeSpan.FromSeconds(30) }.As(FleetRoles.Viewer);

    /// <summary>Stops the server (open streams end with Unavailable) and frees its ports.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await _factory.DisposeAsync();
        }
    }
}

/// <summary>A real agent running in the background until stopped.</summary>
internal sealed class RunningAgent : IDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    public RunningAgent(AgentRunner runner, string name)
    {
        Runner = runner;
        Name = name;
        _run = Task.Run(() => runner.RunAsync(_stop.Token));
    }

    public AgentRunner Runner { get; }

    public string Name { get; }

    public bool IsRunning => !_run.IsCompleted;

    public long Produced => Runner.SnapshotsProduced;

    public long Acknowledged => Runner.SnapshotsAcknowledged;

    public int Spooled => Runner.SpooledSnapshots;

    public bool IsConnected => Runner.IsConnected;

    public string AgentId => Runner.AgentId ?? throw new InvalidOperationException($"{Name} has not opened its state folder yet");

    public override string ToString() =>
        $"{Name}: produced {Produced}, acknowledged {Acknowledged}, spooled {Spooled}, {(IsConnected ? "connected" : "not connected")}, {(IsRunning ? "running" : _run.Status.ToString())}";

    public void ThrowIfFailed()
    {
        if (_run.IsFaulted)
        {
            throw new InvalidOperationException($"{Name} stopped with an error", _run.Exception!.InnerException);
        }
    }

    public void Dispose() => _stop.Dispose();

    /// <summary>Stops the agent (as fleet-agent does on SIGTERM) and waits until it has.</summary>
    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }
        await _run.WaitAsync(StopTimeout);
    }
}
