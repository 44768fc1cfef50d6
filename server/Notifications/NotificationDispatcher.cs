using System.Net;
using System.Text;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Notifications;

/// <summary>
/// Sends pending deliveries. Each round claims the due rows with <c>FOR UPDATE SKIP LOCKED</c> and, in that
/// transaction, counts the attempt and leases the row (its next attempt moves past the request timeout), so a second
/// server skips it while it is sent and takes it again only if this one dies mid-send. Outcomes: 2xx delivered; 408,
/// 429, 5xx, a timeout or a network error retried after a backoff doubling from FirstRetryDelay up to MaxRetryDelay
/// (shortened by jitter), failed once MaxAttempts is reached; any other status (3xx, 4xx) failed at once, since
/// repeating the same request cannot help. Rows live in the database: a restart resumes them, and a database outage
/// is logged and retried while the service stays up.
/// </summary>
public sealed partial class NotificationDispatcher(
    IDbContextFactory<FleetDbContext> contexts,
    IHttpClientFactory httpClients,
    IOptions<NotificationOptions> options,
    TimeProvider clock,
    ILogger<NotificationDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "Fleet.Notifications";
    private const int MaxBodyInError = 200;

    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);

    private readonly NotificationOptions _options = options.Value;
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        int failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait = _options.PollInterval;
            try
            {
                int claimed = await RunOnceAsync(stoppingToken);
                if (clock.GetUtcNow() - _lastPrune >= PruneEvery)
                {
                    await PruneAsync(stoppingToken);
                    _lastPrune = clock.GetUtcNow();
                }
                failures = 0;
                if (claimed >= _options.BatchSize)
                {
                    wait = TimeSpan.Zero; // more are due
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The database is away (or anything else went wrong): say so, wait longer each time, keep going.
                failures++;
                wait = TimeSpan.FromTicks(Math.Min(_options.PollInterval.Ticks * (1L << Math.Min(failures, 5)), TimeSpan.FromMinutes(1).Ticks));
                LogRoundFailed(logger, ex, failures, wait);
            }
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One round: claims the due deliveries, sends them, records each outcome. Returns how many were claimed.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var claimed = await ClaimAsync(ct);
        if (claimed.Count == 0)
        {
            return 0;
        }
        await Parallel.ForEachAsync(
            claimed,
            new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = ct },
            async (claim, token) => await SendAsync(claim, token));
        return claimed.Count;
    }

    /// <summary>Removes delivered, failed and suppressed deliveries created before the retention period (but not the suppressed firing of an alert still open); returns how many.</summary>
    public async Task<int> PruneAsync(CancellationToken ct)
    {
        var before = clock.GetUtcNow() - _options.Retention;
        await using var db = await contexts.CreateDbContextAsync(ct);
        int removed = await db.NotificationDeliveries
            .Where(d => d.Status != DeliveryStatus.Pending && d.CreatedAt < before)
            // A suppressed firing of an alert still open is what its silence's end is judged by: kept until it resolves.
            .Where(d => !(d.Status == DeliveryStatus.Suppressed && d.Event == "firing" && db.Alerts.Any(a => a.Id == d.AlertId && a.State != AlertState.Resolved)))
            .ExecuteDeleteAsync(ct);
        if (removed > 0)
        {
            LogPruned(logger, removed, before);
        }
        return removed;
    }

    /// <summary>
    /// The wait after failed attempt <paramref name="attempt"/> (1 = the first): FirstRetryDelay doubled per further
    /// attempt, at most MaxRetryDelay, shortened by up to JitterFraction of itself (<paramref name="random"/> in [0, 1)).
    /// </summary>
    public static TimeSpan Backoff(int attempt, NotificationOptions options, double random)
    {
        ArgumentNullException.ThrowIfNull(options);
        double seconds = options.FirstRetryDelay.TotalSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        seconds = Math.Min(seconds, options.MaxRetryDelay.TotalSeconds);
        seconds *= 1 - (options.JitterFraction * Math.Clamp(random, 0, 1));
        return TimeSpan.FromSeconds(seconds);
    }

    private sealed record Claim(long Id, int Attempt, string Url, string Payload, string ChannelName);

    private async Task<List<Claim>> ClaimAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var rows = await db.NotificationDeliveries
            .FromSql($"""
                SELECT * FROM notification_deliveries
                WHERE status = 'pending' AND next_attempt_at <= {now}
                ORDER BY next_attempt_at, id
                LIMIT {_options.BatchSize}
                FOR UPDATE SKIP LOCKED
                """)
            .ToListAsync(ct);
        if (rows.Count == 0)
        {
            return [];
        }
        var channelIds = rows.Select(r => r.ChannelId).Distinct().ToList();
        var channels = await db.NotificationChannels.AsNoTracking().Where(c => channelIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        var claims = new List<Claim>(rows.Count);
        foreach (var row in rows)
        {
            if (!channels.TryGetValue(row.ChannelId, out var channel) || !channel.Enabled)
            {
                // Deleted or switched off since the transition: a disabled channel stays silent.
                row.Status = DeliveryStatus.Failed;
                row.NextAttemptAt = null;
                row.LastError = channel is null ? "channel deleted before delivery" : "channel disabled before delivery";
                continue;
            }
            row.Attempts++;
            row.LastAttemptAt = now;
            row.NextAttemptAt = now + _options.ClaimLease;
            // The channel's current URL: fixing a wrong address lets the pending retries reach it.
            claims.Add(new Claim(row.Id, row.Attempts, channel.Url, row.Payload, channel.Name));
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return claims;
    }

    private async Task SendAsync(Claim claim, CancellationToken ct)
    {
        int? status = null;
        string? error = null;
        bool retry;
        TimeSpan? retryAfter = null;
        try
        {
            var client = httpClients.CreateClient(HttpClientName);
            using var content = new StringContent(claim.Payload, Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(new Uri(claim.Url), content, ct);
            status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                retry = false;
            }
            else
            {
                retry = status is 408 or 429 or >= 500;
                error = $"HTTP {status} {response.ReasonPhrase}{await BodySnippetAsync(response, ct)}"
                    + (retry ? "" : " (not retried: the same request would be refused again)");
                retryAfter = response.Headers.RetryAfter?.Delta;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping: hand the attempt back so the next start sends it at once.
            await ReleaseAsync(claim);
            return;
        }
        catch (TaskCanceledException)
        {
            retry = true;
            error = $"timed out after {_options.RequestTimeout.TotalSeconds:0.#} s";
        }
        catch (HttpRequestException ex)
        {
            retry = true;
            error = ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : $"{ex.HttpRequestError}: {ex.Message}";
        }

        var now = clock.GetUtcNow();
        DeliveryStatus outcome;
        DateTimeOffset? next = null;
        if (error is null)
        {
            outcome = DeliveryStatus.Delivered;
        }
        else if (retry && claim.Attempt < _options.MaxAttempts)
        {
            outcome = DeliveryStatus.Pending;
            var wait = Backoff(claim.Attempt, _options, Random.Shared.NextDouble());
            if (retryAfter is { } ra && ra > wait)
            {
                wait = ra < _options.MaxRetryDelay ? ra : _options.MaxRetryDelay;
            }
            next = now + wait;
        }
        else
        {
            outcome = DeliveryStatus.Failed;
            if (retry)
            {
                error += $" (given up after {claim.Attempt} attempts)";
            }
        }
        if (error is { Length: > NotificationDeliveryEntity.MaxErrorLength })
        {
            error = error[..(NotificationDeliveryEntity.MaxErrorLength - 1)] + "…";
        }
        error = error is null ? null : NotificationPayloads.Clean(error);

        if (outcome == DeliveryStatus.Delivered)
        {
            LogDelivered(logger, claim.Id, claim.ChannelName, claim.Attempt, status);
        }
        else
        {
            LogAttemptFailed(logger, claim.Id, claim.ChannelName, claim.Attempt, error, outcome == DeliveryStatus.Pending ? next : null);
        }

        DateTimeOffset? deliveredAt = outcome == DeliveryStatus.Delivered ? now : null;

        // Only the claim this server holds is written: if the lease ran out and another server took the row, its attempt counts.
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        await db.NotificationDeliveries
            .Where(d => d.Id == claim.Id && d.Attempts == claim.Attempt && d.Status == DeliveryStatus.Pending)
            .ExecuteUpdateAsync(
                s => s.SetProperty(d => d.Status, outcome)
                    .SetProperty(d => d.NextAttemptAt, next)
                    .SetProperty(d => d.LastStatusCode, status)
                    .SetProperty(d => d.LastError, error)
                    .SetProperty(d => d.DeliveredAt, deliveredAt),
                CancellationToken.None);
    }

    private async Task ReleaseAsync(Claim claim)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await using var db = await contexts.CreateDbContextAsync(cts.Token);
            var now = clock.GetUtcNow();
            await db.NotificationDeliveries
                .Where(d => d.Id == claim.Id && d.Attempts == claim.Attempt && d.Status == DeliveryStatus.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.Attempts, claim.Attempt - 1).SetProperty(d => d.NextAttemptAt, now), cts.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Data.Common.DbException or InvalidOperationException)
        {
            // The lease runs out and the row is sent after it: nothing is lost.
            LogReleaseFailed(logger, ex, claim.Id);
        }
    }

    private static async Task<string> BodySnippetAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            string body = await response.Content.ReadAsStringAsync(ct);
            body = body.Trim().ReplaceLineEndings(" ");
            return body.Length == 0 ? "" : ": " + (body.Length > MaxBodyInError ? body[..MaxBodyInError] + "…" : body);
        }
        catch (HttpRequestException)
        {
            return "";
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification {DeliveryId} delivered to channel {Channel} (attempt {Attempt}, HTTP {Status})")]
    private static partial void LogDelivered(ILogger logger, long deliveryId, string channel, int attempt, int? status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notification {DeliveryId} to channel {Channel} failed (attempt {Attempt}): {Error}; next attempt at {NextAttempt} (empty: not retried)")]
    private static partial void LogAttemptFailed(ILogger logger, long deliveryId, string channel, int attempt, string? error, DateTimeOffset? nextAttempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} finished notification deliveries created before {Before}")]
    private static partial void LogPruned(ILogger logger, int count, DateTimeOffset before);

    [LoggerMessage(Level = LogLevel.Error, Message = "Notification dispatch round failed ({Failures} in a row); trying again in {Wait}")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception, int failures, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not hand back notification {DeliveryId} while stopping; it is retried once its claim expires")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, long deliveryId);
}
