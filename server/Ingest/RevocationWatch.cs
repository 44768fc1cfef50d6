using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Ingest;

/// <summary>
/// Every <see cref="IngestOptions.RevocationCheckInterval"/>, asks storage whether the tokens of this server's open
/// streams were revoked (one query, only while streams are open) and cuts those streams. A revocation made through
/// this server cuts at once; this catches the ones made elsewhere (another server of the same database, or an
/// <c>UPDATE</c> by hand), within one interval.
/// </summary>
public sealed partial class RevocationWatch(
    AgentStreams streams,
    IIngestStore store,
    IOptions<IngestOptions> options,
    TimeProvider time,
    ILogger<RevocationWatch> logger) : BackgroundService
{
    /// <summary>Checks once now; returns how many streams were cut.</summary>
    public async Task<int> CheckAsync(CancellationToken ct)
    {
        var open = streams.OpenTokenIds();
        if (open.Count == 0)
        {
            return 0;
        }
        int cut = 0;
        foreach (long tokenId in await store.RevokedAmongAsync([.. open], ct).ConfigureAwait(false))
        {
            int streamsCut = streams.Revoke(tokenId);
            if (streamsCut > 0)
            {
                LogRevokedElsewhere(logger, tokenId, streamsCut);
            }
            cut += streamsCut;
        }
        return cut;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RevocationCheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await CheckAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The database is away: streams stay as they are, the next tick asks again.
                    LogCheckFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Enrollment token {TokenId} was revoked elsewhere: {Streams} open stream(s) using it cut")]
    private static partial void LogRevokedElsewhere(ILogger logger, long tokenId, int streams);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking the open streams' enrollment tokens for revocation failed; trying again next interval")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
