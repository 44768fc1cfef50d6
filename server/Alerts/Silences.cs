using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Fleet.Server.Alerts;

/// <summary>
/// Which silences hold and which alerts they cover; and the end of a silence: the alerts still firing that it covered
/// are handed to the transition sink again (as "firing" with <see cref="AlertTransition.AfterSilence"/>), so the sink
/// sends the firing notification it had suppressed, in the transaction that marks the end handled.
/// </summary>
public static class Silences
{
    /// <summary>Whether <paramref name="silence"/>'s matchers cover this subject (at any time: <see cref="HoldsAt"/> says when).</summary>
    public static bool Covers(AlertSilenceEntity silence, long ruleId, string host, string? service, int? pid, string? remote)
    {
        ArgumentNullException.ThrowIfNull(silence);
        if (silence.RuleId is { } rule && rule != ruleId)
        {
            return false;
        }
        if (silence.AlertId is not null)
        {
            return string.Equals(silence.Host, host, StringComparison.Ordinal)
                && string.Equals(silence.Service, service, StringComparison.Ordinal)
                && silence.Pid == pid
                && string.Equals(silence.Remote, remote, StringComparison.Ordinal);
        }
        return (AlertSilenceDraft.MatchesAll(silence.HostPattern) || Glob.Matches(silence.HostPattern!, host))
            && (AlertSilenceDraft.MatchesAll(silence.ServicePattern) || Glob.Matches(silence.ServicePattern!, service));
    }

    public static bool Covers(AlertSilenceEntity silence, AlertView alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return Covers(silence, alert.RuleId, alert.Host, alert.Service, alert.Pid, alert.Remote);
    }

    public static bool HoldsAt(AlertSilenceEntity silence, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(silence);
        return at >= silence.StartsAt && at < silence.Until;
    }

    /// <summary>Of <paramref name="silences"/>, the one holding at <paramref name="at"/> that covers the alert and holds longest; null when none.</summary>
    public static AlertSilenceEntity? Covering(IEnumerable<AlertSilenceEntity> silences, AlertView alert, DateTimeOffset at) =>
        silences.Where(s => HoldsAt(s, at) && Covers(s, alert)).OrderByDescending(s => s.Until).ThenBy(s => s.Id).FirstOrDefault();

    /// <summary>Silences holding at some time in [<paramref name="from"/>, <paramref name="to"/>], untracked.</summary>
    public static Task<List<AlertSilenceEntity>> HoldingAsync(FleetDbContext db, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        from = from.ToUniversalTime();
        to = to.ToUniversalTime();
        return db.AlertSilences.AsNoTracking()
            .Where(s => s.StartsAt <= to && s.EndsAt > from && (s.EndedAt == null || s.EndedAt > from))
            .OrderBy(s => s.Id)
            .ToListAsync(ct);
    }

    /// <summary>
    /// Handles the end of every silence over at <paramref name="now"/> whose end is not yet handled: each alert firing
    /// now that it covers goes to the sink, and the silence is marked released, all in one transaction. Rows are
    /// claimed with FOR UPDATE SKIP LOCKED, so two servers never release one silence twice. Returns how many silences.
    /// The caller holds the <see cref="AlertStateGate"/> (alert state must not change meanwhile).
    /// </summary>
    public static async Task<int> ReleaseEndedAsync(IDbContextFactory<FleetDbContext> contexts, IAlertTransitionSink sink, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var at = now.ToUniversalTime();
        await using var tx = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        var ended = await db.AlertSilences
            .FromSql($"""
                SELECT * FROM alert_silences
                WHERE released_at IS NULL AND (ends_at <= {at} OR ended_at <= {at})
                ORDER BY id
                LIMIT 100
                FOR UPDATE SKIP LOCKED
                """)
            .ToListAsync(ct).ConfigureAwait(false);
        if (ended.Count == 0)
        {
            return 0;
        }
        await ReleaseAsync(db, sink, ended, now, ct).ConfigureAwait(false);
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return ended.Count;
    }

    /// <summary>
    /// Adds to <paramref name="db"/> (tracked <paramref name="ended"/> silences, not saved): for each, the alerts firing
    /// now that it covers, as "firing" transitions after the silence, and its <see cref="AlertSilenceEntity.ReleasedAt"/>.
    /// The sink sends only those whose firing notification was suppressed and that no other silence still covers.
    /// </summary>
    public static async Task ReleaseAsync(FleetDbContext db, IAlertTransitionSink sink, IReadOnlyList<AlertSilenceEntity> ended, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(ended);
        var firing = await db.Alerts.AsNoTracking().Where(a => a.State == AlertState.Firing).OrderBy(a => a.Id).ToListAsync(ct).ConfigureAwait(false);
        var transitions = new List<AlertTransition>();
        var seen = new HashSet<long>();
        foreach (var silence in ended)
        {
            silence.ReleasedAt = now;
            foreach (var alert in firing)
            {
                if (Covers(silence, alert.RuleId, alert.Host, alert.Service, alert.Pid, alert.Remote) && seen.Add(alert.Id))
                {
                    transitions.Add(new AlertTransition(alert.ToView(), AlertTransition.Firing, now) { AfterSilence = silence.Id });
                }
            }
        }
        if (transitions.Count > 0)
        {
            await sink.AddAsync(db, transitions, ct).ConfigureAwait(false);
        }
    }
}
