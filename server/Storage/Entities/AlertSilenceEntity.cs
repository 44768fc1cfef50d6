using Fleet.Web.Data;

namespace Fleet.Server.Storage.Entities;

/// <summary>
/// One alert silence (alert_silences): matchers (a rule or all, a host glob or all, a service glob or any) or one alert's
/// exact subject (<see cref="AlertId"/> with <see cref="Host"/>, <see cref="Service"/>, <see cref="Pid"/> and
/// <see cref="Remote"/>), the time it holds, why, and who made and ended it. Rows are kept once over (the history).
/// <see cref="ReleasedAt"/> is set, in the same transaction as the notifications it sends, once the end was handled
/// (alerts that outlived the silence notified): a restart neither misses nor repeats that.
/// </summary>
public sealed class AlertSilenceEntity
{
    public long Id { get; set; }

    /// <summary>Null: every rule.</summary>
    public long? RuleId { get; set; }

    /// <summary>The rule's name when the silence was made (the history outlives a rule).</summary>
    public string? RuleName { get; set; }

    /// <summary>Host name glob; null: every host. Unused with <see cref="AlertId"/>.</summary>
    public string? HostPattern { get; set; }

    /// <summary>Service glob; null: any (and alerts without a service). Unused with <see cref="AlertId"/>.</summary>
    public string? ServicePattern { get; set; }

    /// <summary>The alert the silence was made from: it then covers exactly that subject (rule, host, service, pid, remote).</summary>
    public long? AlertId { get; set; }

    public string? Host { get; set; }

    public string? Service { get; set; }

    public int? Pid { get; set; }

    public string? Remote { get; set; }

    public DateTimeOffset StartsAt { get; set; }

    public DateTimeOffset EndsAt { get; set; }

    public required string Reason { get; set; }

    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When an operator ended it early.</summary>
    public DateTimeOffset? EndedAt { get; set; }

    public string? EndedBy { get; set; }

    /// <summary>When its end was handled: the alerts still firing that it had silenced were notified.</summary>
    public DateTimeOffset? ReleasedAt { get; set; }

    /// <summary>When it stops holding: its end, or when it was ended early.</summary>
    public DateTimeOffset Until => EndedAt is { } ended && ended < EndsAt ? ended : EndsAt;

    public AlertSilence ToModel() => new(
        Id,
        RuleId,
        RuleName,
        HostPattern,
        ServicePattern,
        AlertId is { } alert && Host is { } host ? new AlertSilenceSubject(alert, host, Service, Pid, Remote) : null,
        StartsAt,
        EndsAt,
        Reason,
        CreatedBy,
        CreatedAt,
        EndedAt,
        EndedBy);
}
