using Fleet.Agent.Streaming;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleet.Agent.Simulation;

/// <summary>What <see cref="FleetSimulator"/> simulates and where it streams to.</summary>
public sealed class FleetSimulatorOptions
{
    /// <summary>How many hosts (sim-host-001 ...).</summary>
    public required int Hosts { get; init; }

    public required Uri ServerAddress { get; init; }

    public required string EnrollmentToken { get; init; }

    /// <summary>One state folder per host below this one (agent id, sequence, spool).</summary>
    public required string StateDirectory { get; init; }

    /// <summary>Real time between a host's snapshots (default 10 s).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    public int Seed { get; init; } = 1;

    /// <summary>Simulated time runs this many times faster than real time; snapshot timestamps stay real.</summary>
    public double Speed { get; init; } = 1;

    public bool AllowPlaintext { get; init; }

    public string? CaFile { get; init; }

    /// <summary>The SHA-256 of the server's certificate: that certificate alone is trusted (see AgentRunnerOptions.ServerFingerprint).</summary>
    public string? ServerFingerprint { get; init; }

    /// <summary>Per host; smaller than a real agent's by default (an hour at 10 s, 32 MiB).</summary>
    public SpoolLimits SpoolLimits { get; init; } = new(360, 32L * 1024 * 1024);

    public int MaxInFlight { get; init; } = 64;

    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>The real time at which simulated time starts (default: when RunAsync starts).</summary>
    public DateTimeOffset? StartedAt { get; init; }

    internal Func<TimeSpan, CancellationToken, Task>? ReconnectDelay { get; init; }

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Hosts < 1 || Hosts > 10_000)
        {
            problems.Add($"{nameof(Hosts)}: from 1 to 10000, not {Hosts}");
        }
        if (IngestChannel.Validate(ServerAddress, AllowPlaintext) is { } address)
        {
            problems.Add($"{nameof(ServerAddress)}: {address}");
        }
        if (IngestChannel.ValidateTrust(ServerAddress, CaFile, ServerFingerprint, HttpHandler is not null, nameof(ServerFingerprint), nameof(CaFile)) is { } trust)
        {
            problems.Add(trust);
        }
        if (string.IsNullOrWhiteSpace(EnrollmentToken))
        {
            problems.Add($"{nameof(EnrollmentToken)}: must not be empty");
        }
        if (string.IsNullOrWhiteSpace(StateDirectory))
        {
            problems.Add($"{nameof(StateDirectory)}: must name a folder");
        }
        if (Interval <= TimeSpan.Zero)
        {
            problems.Add($"{nameof(Interval)}: must be positive");
        }
        if (!(Speed > 0) || double.IsInfinity(Speed))
        {
            problems.Add($"{nameof(Speed)}: must be a positive number");
        }
        return problems;
    }
}

/// <summary>
/// Streams a fleet of simulated hosts from one process, each through the agent's own code: its own state
/// folder and spool, its own stream client (and HTTP/2 connection), its own loop and server configuration.
/// The hosts' first snapshots are spread over one interval so they do not arrive in step.
/// </summary>
public sealed class FleetSimulator
{
    private readonly FleetSimulatorOptions _options;
    private readonly ILogger _logger;
    private volatile IReadOnlyList<(SimulatedHost Host, AgentStreamClient Client, AgentLoop Loop, SnapshotSpool Spool)> _agents = [];

    public FleetSimulator(FleetSimulatorOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("simulator options: " + string.Join("; ", problems), nameof(options));
        }
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Hosts whose stream is open (after Welcome).</summary>
    public int ConnectedHosts => _agents.Count(a => a.Client.IsConnected);

    public long SnapshotsProduced => _agents.Sum(a => a.Loop.SnapshotsProduced);

    public long SnapshotsAcknowledged => _agents.Sum(a => a.Client.Acknowledged);

    public int SpooledSnapshots => _agents.Sum(a => a.Spool.Count);

    /// <summary>Runs every host until cancelled, then returns; the spools stay on disk.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var started = _options.StartedAt ?? DateTimeOffset.UtcNow;
        var agents = new List<(SimulatedHost Host, AgentStreamClient Client, AgentLoop Loop, SnapshotSpool Spool)>(_options.Hosts);
        try
        {
            for (int i = 1; i <= _options.Hosts; i++)
            {
                var host = new SimulatedHost(_options.Seed, i, started, _options.Speed);
                var logger = new PrefixedLogger(_logger, host.Hostname);
                var spool = SnapshotSpool.Open(Path.Combine(_options.StateDirectory, host.Hostname), _options.SpoolLimits, logger);
                var client = new AgentStreamClient(new StreamClientOptions
                {
                    ServerAddress = _options.ServerAddress,
                    EnrollmentToken = _options.EnrollmentToken,
                    AllowPlaintext = _options.AllowPlaintext,
                    CaFile = _options.CaFile,
                    ServerFingerprint = _options.ServerFingerprint,
                    HttpHandler = _options.HttpHandler,
                    MaxInFlight = _options.MaxInFlight,
                    Delay = _options.ReconnectDelay,
                }, spool, logger);
                var loop = new AgentLoop(new SimulatedSnapshotSource(host), spool, client, _options.Interval, [], logger)
                {
                    InitialDelay = _options.Interval * ((double)(i - 1) / _options.Hosts),
                };
                agents.Add((host, client, loop, spool));
            }
            _agents = agents;
            SimulationLog.Started(_logger, _options.Hosts, _options.Seed, _options.Speed, _options.Interval, _options.ServerAddress);
            var running = _agents.Select(a => a.Loop.RunAsync(cancellationToken)).ToList();
            var report = ReportAsync(cancellationToken);
            await Task.WhenAll(running).ConfigureAwait(false);
            await report.ConfigureAwait(false);
            SimulationLog.Stopped(_logger, SnapshotsProduced, SnapshotsAcknowledged, SpooledSnapshots);
        }
        finally
        {
            foreach (var agent in agents)
            {
                agent.Spool.Dispose();
            }
        }
    }

    private async Task ReportAsync(CancellationToken cancellationToken)
    {
        var every = TimeSpan.FromSeconds(Math.Max(30, _options.Interval.TotalSeconds * 6));
        try
        {
            using var timer = new PeriodicTimer(every);
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                SimulationLog.Progress(_logger, ConnectedHosts, _options.Hosts, SnapshotsProduced, SnapshotsAcknowledged, SpooledSnapshots);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}

internal static partial class SimulationLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "simulating {Hosts} host(s) (seed {Seed}, {Speed}x simulated time), a snapshot each every {Interval}, streaming to {Server}")]
    public static partial void Started(ILogger logger, int hosts, int seed, double speed, TimeSpan interval, Uri server);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Connected}/{Hosts} host(s) connected; {Produced} snapshot(s) taken, {Acknowledged} acknowledged, {Spooled} spooled")]
    public static partial void Progress(ILogger logger, int connected, int hosts, long produced, long acknowledged, int spooled);

    [LoggerMessage(Level = LogLevel.Information, Message = "simulation stopped: {Produced} snapshot(s) taken, {Acknowledged} acknowledged, {Spooled} still spooled")]
    public static partial void Stopped(ILogger logger, long produced, long acknowledged, int spooled);
}
