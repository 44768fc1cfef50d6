using System.Threading.Channels;
using Fleet.Agent.Grouping;
using Fleet.Contracts.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleet.Agent.Streaming;

/// <summary>
/// One agent at work: every interval a snapshot is taken from the source, numbered, spooled durably and
/// handed to the stream client, whether or not the server is reachable (the spool is bounded). The
/// configuration the server sends (interval, grouping rules) is applied as it arrives. The same loop runs a
/// real host (<see cref="AgentRunner"/>) and each simulated host of the simulator.
/// </summary>
internal sealed class AgentLoop
{
    public static TimeSpan MinServerInterval { get; } = TimeSpan.FromSeconds(1);
    public static TimeSpan MaxServerInterval { get; } = TimeSpan.FromHours(1);

    private readonly ISnapshotSource _source;
    private readonly SnapshotSpool _spool;
    private readonly AgentStreamClient _client;
    private readonly IReadOnlyList<GroupingRule> _localRules;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<bool> _configChanged = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private IReadOnlyList<GroupingRule> _rules;
    private long _intervalTicks;
    private long _produced;
    private long _failed;

    public AgentLoop(ISnapshotSource source, SnapshotSpool spool, AgentStreamClient client, TimeSpan interval,
        IReadOnlyList<GroupingRule> localRules, ILogger? logger = null, TimeProvider? time = null)
    {
        if (interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "the interval must be positive");
        }
        _source = source;
        _spool = spool;
        _client = client;
        _localRules = localRules;
        _rules = localRules;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _intervalTicks = interval.Ticks;
    }

    /// <summary>The interval in force: the local one until the server configures another.</summary>
    public TimeSpan Interval => TimeSpan.FromTicks(Interlocked.Read(ref _intervalTicks));

    /// <summary>Wait before the first snapshot (the simulator spreads its hosts over the interval).</summary>
    public TimeSpan InitialDelay { get; init; }

    public long SnapshotsProduced => Interlocked.Read(ref _produced);
    public long SnapshotsFailed => Interlocked.Read(ref _failed);

    /// <summary>Raised after a configuration from the server was applied.</summary>
    public event Action<AgentConfig>? ConfigApplied;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _client.ConfigReceived += Apply;
        var stream = _client.RunAsync(cancellationToken);
        try
        {
            if (InitialDelay > TimeSpan.Zero && !await DelayAsync(InitialDelay, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
            while (!cancellationToken.IsCancellationRequested)
            {
                long started = _time.GetTimestamp();
                ProduceOne();
                if (!await WaitForNextAsync(started, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        finally
        {
            await stream.ConfigureAwait(false);
            _client.ConfigReceived -= Apply;
        }
    }

    /// <summary>Takes, numbers and spools one snapshot; a failure is logged and the loop goes on.</summary>
    public void ProduceOne()
    {
        try
        {
            var snapshot = _source.Next(_time.GetUtcNow());
            snapshot.Sequence = _spool.ReserveSequence();
            _spool.Append(snapshot);
            Interlocked.Increment(ref _produced);
            if (_client.Host is null || !_client.Host.Equals(snapshot.Host))
            {
                _client.Host = snapshot.Host;
            }
            _client.NotifySpooled();
            _logger.Spooled(snapshot.Sequence, snapshot.Processes.Count, snapshot.Services.Count, _spool.Count);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            long failed = Interlocked.Increment(ref _failed);
            _logger.SnapshotFailed(failed, e.Message);
        }
    }

    private async Task<bool> WaitForNextAsync(long startedTimestamp, CancellationToken cancellationToken)
    {
        while (true)
        {
            var remaining = Interval - _time.GetElapsedTime(startedTimestamp);
            if (remaining <= TimeSpan.Zero)
            {
                return !cancellationToken.IsCancellationRequested;
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = Task.Delay(remaining, _time, wait.Token);
            var changed = _configChanged.Reader.WaitToReadAsync(wait.Token).AsTask();
            var first = await Task.WhenAny(delay, changed).ConfigureAwait(false);
            await wait.CancelAsync().ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
            if (first == delay)
            {
                return true;
            }
            // The interval changed: drain the signal and measure again from the same start.
            _configChanged.Reader.TryRead(out _);
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Applies a configuration from the server: its interval (kept within 1 s..1 h) and its grouping rules.</summary>
    public void Apply(AgentConfig config)
    {
        if (config.Interval is { } duration)
        {
            var requested = duration.ToTimeSpan();
            var interval = requested < MinServerInterval ? MinServerInterval : requested > MaxServerInterval ? MaxServerInterval : requested;
            if (interval != requested)
            {
                _logger.IntervalClamped(requested, interval, MinServerInterval, MaxServerInterval);
            }
            long previous = Interlocked.Exchange(ref _intervalTicks, interval.Ticks);
            if (previous != interval.Ticks)
            {
                var was = TimeSpan.FromTicks(previous);
                _logger.IntervalSet(interval, was);
                _configChanged.Writer.TryWrite(true);
            }
        }
        // Rules configured on the server win; without any, the local --rules file applies.
        IReadOnlyList<GroupingRule> rules = config.GroupingRules.Count > 0 ? config.GroupingRules.ToList() : _localRules;
        if (!rules.SequenceEqual(_rules))
        {
            try
            {
                _source.SetGroupingRules(rules);
                _rules = rules;
                _logger.RulesSet(rules.Count);
            }
            catch (GroupingRuleException e)
            {
                _logger.RulesRejected(e.Message);
            }
        }
        ConfigApplied?.Invoke(config);
    }
}
