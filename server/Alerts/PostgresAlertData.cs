using Fleet.Server.Storage;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Fleet.Server.Alerts;

/// <summary><see cref="IAlertData"/> over the alerts table the evaluator keeps; open alerts carry the silence covering them now.</summary>
public sealed class PostgresAlertData(IDbContextFactory<FleetDbContext> contexts, TimeProvider? time = null) : IAlertData
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public const int MaxHistoryLimit = 1000;

    public async Task<IReadOnlyList<AlertView>> ActiveAsync(string? hostName, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var query = db.Alerts.AsNoTracking().Where(a => a.State != AlertState.Resolved);
        if (hostName is not null)
        {
            query = query.Where(a => a.Host == hostName);
        }
        var rows = await query.ToListAsync(ct).ConfigureAwait(false);
        var views = rows
            .OrderBy(a => a.State == AlertState.Firing ? 0 : 1)
            .ThenBy(a => a.Severity == AlertSeverity.Critical ? 0 : 1)
            .ThenByDescending(a => a.StartedAt)
            .ThenByDescending(a => a.Id)
            .Select(a => a.ToView())
            .ToList();
        return await WithSilencesAsync(db, views, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AlertView>> HistoryAsync(AlertHistoryQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        int limit = Math.Clamp(query.Limit, 1, MaxHistoryLimit);
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        // timestamptz parameters must be UTC.
        DateTimeOffset from = query.From.ToUniversalTime(), to = query.To.ToUniversalTime();
        var rows = db.Alerts.AsNoTracking().Where(a => a.StartedAt >= from && a.StartedAt < to);
        if (query.Host is { } host)
        {
            rows = rows.Where(a => a.Host == host);
        }
        if (query.Severity is { } severity)
        {
            rows = rows.Where(a => a.Severity == severity);
        }
        var list = await rows.OrderByDescending(a => a.StartedAt).ThenByDescending(a => a.Id).Take(limit).ToListAsync(ct).ConfigureAwait(false);
        return await WithSilencesAsync(db, [.. list.Select(a => a.ToView())], ct).ConfigureAwait(false);
    }

    /// <summary>Each open alert with the silence covering it now (the one holding longest); resolved ones as they are.</summary>
    private async Task<IReadOnlyList<AlertView>> WithSilencesAsync(FleetDbContext db, List<AlertView> views, CancellationToken ct)
    {
        if (!views.Any(v => v.State != AlertState.Resolved))
        {
            return views;
        }
        var now = _time.GetUtcNow();
        var silences = await Silences.HoldingAsync(db, now, now, ct).ConfigureAwait(false);
        if (silences.Count == 0)
        {
            return views;
        }
        return
        [
            .. views.Select(v => v.State != AlertState.Resolved && Silences.Covering(silences, v, now) is { } s ? v with { Silence = s.ToModel() } : v),
        ];
    }
}
