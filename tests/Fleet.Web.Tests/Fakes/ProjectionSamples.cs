using Fleet.Web.Data;

namespace Fleet.Web.Tests.Fakes;

/// <summary>Builders of projections and alerts with plausible figures a test overrides with `with`.</summary>
public static class ProjectionSamples
{
    /// <summary>An instance projection with a leak of <paramref name="slope"/> fds/h reaching the soft limit 1024 after <paramref name="toLimit"/>.</summary>
    public static ProjectionView Leak(string host, string service, DateTimeOffset at, TimeSpan toLimit, double slope = 42, params DateTimeOffset[] restarts) =>
        new(host, service, null, null, LeakVerdict.Leak, slope, 1024 - slope * toLimit.TotalHours, 1024, 4096, toLimit, toLimit * 4, 0.9,
            restarts.Length > 0 ? restarts[^1] : at.AddHours(-6), restarts, null, "rises steadily since the last restart", null, at);

    public static ProjectionView NoLeak(string host, string service, DateTimeOffset at) =>
        new(host, service, null, null, LeakVerdict.NoLeak, 0.1, 300, 1024, 4096, null, null, 0.8, at.AddHours(-6), [], null, "flat", null, at);

    public static ProjectionView Insufficient(string host, string service, DateTimeOffset at) =>
        new(host, service, null, null, LeakVerdict.InsufficientData, 0, 300, 1024, 4096, null, null, 0, at.AddMinutes(-3), [], null, "the run is 3 minutes long", null, at);

    public static AlertView Alert(long id, string rule, string host, AlertState state, AlertSeverity severity, DateTimeOffset at, string? service = "api") =>
        new(id, id * 10, rule, AlertMetric.ServiceFdPercent, severity, state, host, service, null, null, 91, 80, at.AddMinutes(-10),
            state == AlertState.Pending ? null : at.AddMinutes(-5), state == AlertState.Resolved ? at : null, at, $"{service} on {host} at 91% of its soft limit");

    public static AlertRuleDraft Rule(string name, double threshold = 80) =>
        new(name, AlertMetric.ServiceFdPercent, AlertScopeKind.Fleet, null, null, threshold, threshold - 5, TimeSpan.FromMinutes(5), AlertSeverity.Warning, true);
}
