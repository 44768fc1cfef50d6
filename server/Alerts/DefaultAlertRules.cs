using Fleet.Web.Data;

namespace Fleet.Server.Alerts;

/// <summary>
/// The rules Fleet ships enabled, seeded once by the migration (ids 1..9: user rules start at
/// <see cref="FirstUserRuleId"/>), so a user's edit or deletion sticks.
/// </summary>
public static class DefaultAlertRules
{
    public const long FirstUserRuleId = 1000;

    public const string Actor = "fleet (default rule)";

    public static readonly DateTimeOffset SeededAt = new(2026, 11, 28, 0, 0, 0, TimeSpan.Zero);

    public static IReadOnlyList<(long Id, AlertRuleDraft Draft)> All { get; } =
    [
        // The worst process of a service near its soft limit: the threshold every fd alert in the field uses, held long
        // enough that a burst does not page; critical close to the limit, held briefly (little time is left).
        (1, Fleet("Service fds over 80% of the soft limit", AlertMetric.ServiceFdPercent, 80, 75, TimeSpan.FromMinutes(5), AlertSeverity.Warning)),
        (2, Fleet("Service fds over 95% of the soft limit", AlertMetric.ServiceFdPercent, 95, 90, TimeSpan.FromMinutes(1), AlertSeverity.Critical)),
        // The projection: earlier than a static threshold. Held for a while, and recovering only well above the threshold,
        // because a projection moves with every recomputation.
        (3, Fleet("Fds exhausted within 24 hours", AlertMetric.TimeToExhaustion, 24, 30, TimeSpan.FromMinutes(10), AlertSeverity.Warning)),
        (4, Fleet("Fds exhausted within 2 hours", AlertMetric.TimeToExhaustion, 2, 3, TimeSpan.FromMinutes(5), AlertSeverity.Critical)),
        // Host-wide tables: once full, every process on the host fails (EMFILE/ENFILE, EADDRNOTAVAIL, dropped packets).
        (5, Fleet("Host file handles over 90% of file-max", AlertMetric.HostFileHandlesPercent, 90, 85, TimeSpan.FromMinutes(5), AlertSeverity.Warning)),
        (6, Fleet("Ephemeral ports over 80% of the range", AlertMetric.HostEphemeralPortsPercent, 80, 70, TimeSpan.FromMinutes(5), AlertSeverity.Warning)),
        (7, Fleet("Conntrack over 90% of its maximum", AlertMetric.HostConntrackPercent, 90, 85, TimeSpan.FromMinutes(5), AlertSeverity.Warning)),
        (8, Fleet("Orphan sockets over 80% of the maximum", AlertMetric.HostOrphansPercent, 80, 70, TimeSpan.FromMinutes(5), AlertSeverity.Warning)),
        // No data means no other alert can fire for the host: 2 minutes is 12 missed snapshots at the default interval.
        (9, Fleet("Agent silent for 2 minutes", AlertMetric.AgentOffline, 2, 1, TimeSpan.Zero, AlertSeverity.Critical)),
    ];

    private static AlertRuleDraft Fleet(string name, AlertMetric metric, double threshold, double recovery, TimeSpan @for, AlertSeverity severity) =>
        new(name, metric, AlertScopeKind.Fleet, null, null, threshold, recovery, @for, severity, Enabled: true);
}
