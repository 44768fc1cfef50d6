using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Threading.RateLimiting;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Ingest;

/// <summary>
/// Connection attempts per client address (a token bucket per IP address, <see cref="IngestRateLimitOptions.ConnectBurst"/>
/// at once and <see cref="IngestRateLimitOptions.ConnectsPerMinute"/> sustained): an attempt over the limit is
/// refused at once with ResourceExhausted, before the enrollment token is hashed or looked up, so a reconnect storm
/// or a client trying tokens costs the server next to nothing. Logged once per burst of refusals of an address,
/// counted (<see cref="Refused"/>, counter <c>fleet.ingest.connects.refused</c>).
/// </summary>
public sealed class ConnectLimiter : IDisposable
{
    /// <summary>Addresses remembered as "being refused" (for one log line per burst); more are refused without a log line.</summary>
    private const int MaxTrackedAddresses = 10_000;

    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly IngestRateLimitOptions _options;
    private readonly ILogger _logger;
    private readonly Counter<long>? _refusedCounter;
    private readonly ConcurrentDictionary<string, byte> _refusing = new(StringComparer.Ordinal);
    private long _refused;

    public ConnectLimiter(IOptions<IngestOptions> options, ILogger<ConnectLimiter> logger, IMeterFactory? meters = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.RateLimit;
        _logger = logger;
        var (tokens, period) = IngestRateLimitOptions.Refill(_options.ConnectsPerMinute / 60, _options.ConnectBurst);
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = _options.ConnectBurst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            AutoReplenishment = true,
            QueueLimit = 0,
        };
        _limiter = PartitionedRateLimiter.Create<string, string>(
            address => RateLimitPartition.GetTokenBucketLimiter(address, _ => bucket),
            StringComparer.Ordinal);
        _refusedCounter = IngestMeter.Create(meters)?.CreateCounter<long>(
            "fleet.ingest.connects.refused", "{call}", "Connect calls refused by the per-address limit");
    }

    /// <summary>Connect calls refused so far.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Admits one Connect call from <paramref name="address"/> (an IP address), or throws ResourceExhausted.</summary>
    /// <exception cref="RpcException">ResourceExhausted, saying which limit and when to retry (trailer <c>grpc-retry-pushback-ms</c>).</exception>
    public void Admit(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        using var lease = _limiter.AttemptAcquire(address);
        if (lease.IsAcquired)
        {
            _refusing.TryRemove(address, out _);
            return;
        }
        Interlocked.Increment(ref _refused);
        _refusedCounter?.Add(1);
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        if (retryAfter < TimeSpan.FromSeconds(1))
        {
            retryAfter = TimeSpan.FromSeconds(1);
        }
        if (_refusing.Count < MaxTrackedAddresses && _refusing.TryAdd(address, 0))
        {
            _logger.ConnectsRefused(address, _options.ConnectBurst, _options.ConnectsPerMinute);
        }
        string detail = string.Create(CultureInfo.InvariantCulture,
            $"too many connection attempts from {address}: at most {_options.ConnectBurst} at once and {_options.ConnectsPerMinute:0.##} a minute ({IngestRateLimitOptions.Section}); retry in {Math.Ceiling(retryAfter.TotalSeconds):0} s");
        var trailers = new Metadata { { "grpc-retry-pushback-ms", ((long)retryAfter.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) } };
        throw new RpcException(new Status(StatusCode.ResourceExhausted, detail), trailers);
    }

    public void Dispose() => _limiter.Dispose();
}
