using Fleet.Agent.Collection;
using Fleet.Agent.Snapshots;
using Fleet.Contracts.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleet.Agent.Streaming;

/// <summary>
/// A Fleet agent for this host: every interval it collects every process, fd and socket from procfs,
/// groups them into services, spools the snapshot on disk and streams it to the server, which acknowledges
/// it once stored. Collection goes on while the server is unreachable (the spool is bounded); spooled
/// snapshots are sent in order once the stream is back. Used by <c>fleet-agent run</c>, and by a server
/// that runs an agent in-process.
/// </summary>
public sealed class AgentRunner
{
    private readonly AgentRunnerOptions _options;
    private readonly ILogger _logger;
    private AgentLoop? _loop;
    private AgentStreamClient? _client;
    private SnapshotSpool? _spool;
    private int _running;

    /// <exception cref="ArgumentException">The options cannot be used; the message lists every problem.</exception>
    public AgentRunner(AgentRunnerOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("agent options: " + string.Join("; ", problems), nameof(options));
        }
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The interval in force: the configured one until the server sends another.</summary>
    public TimeSpan Interval => _loop?.Interval ?? _options.Interval;

    /// <summary>This agent's id (from its state folder), once running.</summary>
    public string? AgentId => _spool?.AgentId;

    /// <summary>True while a stream to the server is open (after Welcome).</summary>
    public bool IsConnected => _client?.IsConnected ?? false;

    /// <summary>Snapshots waiting in the spool for an acknowledgement.</summary>
    public int SpooledSnapshots => _spool?.Count ?? 0;

    public long SnapshotsProduced => _loop?.SnapshotsProduced ?? 0;

    public long SnapshotsAcknowledged => _client?.Acknowledged ?? 0;

    /// <summary>Raised after a configuration from the server (in Welcome or pushed later) was applied.</summary>
    public event Action<AgentConfig>? ConfigApplied;

    /// <summary>
    /// Runs until <paramref name="cancellationToken"/> is cancelled, then returns normally; the spool stays on
    /// disk for the next start. Throws only when the state folder cannot be used (for example another agent
    /// holds it).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException("this agent is already running");
        }
        try
        {
            using var spool = SnapshotSpool.Open(_options.StateDirectory, _options.SpoolLimits, _logger);
            var source = new CollectedSnapshotSource(
                new CollectorOptions { ProcRoot = _options.ProcRoot.TrimEnd('/'), MachineIdPath = _options.MachineIdPath },
                _options.GroupingRules);
            var client = new AgentStreamClient(_options.ToStreamClientOptions(), spool, _logger);
            var loop = new AgentLoop(source, spool, client, _options.Interval, _options.GroupingRules, _logger);
            loop.ConfigApplied += OnConfigApplied;
            _spool = spool;
            _client = client;
            _loop = loop;
            _logger.AgentStarted(spool.AgentId, _options.ProcRoot, _options.Interval, spool.StateDirectory, _options.ServerAddress);
            try
            {
                await loop.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                loop.ConfigApplied -= OnConfigApplied;
                _logger.AgentStopped(spool.Count, spool.StateDirectory);
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    private void OnConfigApplied(AgentConfig config) => ConfigApplied?.Invoke(config);
}
