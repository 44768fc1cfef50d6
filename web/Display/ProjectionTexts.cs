using System.Globalization;
using Fleet.Web.Data;

namespace Fleet.Web.Display;

/// <summary>
/// A projection read by people: "in 3 h 20 min" (or "no leak", "not enough data"), "+42 fds/h",
/// "socket leak toward 10.0.3.7:443", "restarts every ~4 h". <see cref="Seconds"/> is what data-value attributes carry.
/// </summary>
public static class ProjectionTexts
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Said when no projection is known for an instance (the job has not run on it yet).</summary>
    public const string Unknown = "not projected yet";

    /// <summary>Time until the soft limit: "in 3 h 20 min", "now" when already there, "no leak", "not enough data".</summary>
    public static string TimeToExhaustion(ProjectionView? projection) => projection switch
    {
        null => Unknown,
        { Verdict: LeakVerdict.InsufficientData } => "not enough data",
        { Verdict: LeakVerdict.NoLeak } => "no leak",
        { TimeToSoftLimit: { } t } when t <= TimeSpan.Zero => "at the limit now",
        { TimeToSoftLimit: { } t } => "in " + Figures.Duration(Round(t)),
        _ => "leaking, no finite limit",
    };

    /// <summary>Seconds until the soft limit (invariant), or "" when there is no such time.</summary>
    public static string Seconds(ProjectionView? projection) =>
        projection is { Verdict: LeakVerdict.Leak, TimeToSoftLimit: { } t }
            ? Math.Max(0, Math.Round(t.TotalSeconds)).ToString("0", Inv)
            : "";

    /// <summary>The slope: "+42 fds/h", "-3 fds/h", "+0.4 fds/h".</summary>
    public static string Slope(double perHour)
    {
        if (!double.IsFinite(perHour))
        {
            return "–";
        }
        var abs = Math.Abs(perHour);
        var number = abs >= 10 ? Figures.Count(abs) : abs.ToString("0.#", Inv);
        return (perHour < 0 ? "-" : "+") + number + " fds/h";
    }

    /// <summary>"socket leak toward 10.0.3.7:443", or null without one.</summary>
    public static string? SocketLeak(ProjectionView? projection) =>
        projection?.SocketLeak is { } leak ? "socket leak toward " + leak.Remote : null;

    /// <summary>"restarts every ~4 h", or null when restarts do not repeat.</summary>
    public static string? Cadence(ProjectionView? projection) =>
        projection?.RestartCadence is { } c && c > TimeSpan.Zero ? "restarts every ~" + Figures.Duration(Round(c)) : null;

    /// <summary>The more urgent, the more colour: under 2 h an error, under 24 h a warning.</summary>
    public static FigureSeverity Severity(ProjectionView? projection) => projection switch
    {
        { Verdict: LeakVerdict.Leak, TimeToSoftLimit: { } t } when t < TimeSpan.FromHours(2) => FigureSeverity.Error,
        { Verdict: LeakVerdict.Leak, TimeToSoftLimit: { } t } when t < TimeSpan.FromHours(24) => FigureSeverity.Warning,
        _ => FigureSeverity.Normal,
    };

    /// <summary>Whether a graph draws a projection line for it: a leak toward a finite soft limit.</summary>
    public static bool Projects(ProjectionView projection) =>
        projection is { Verdict: LeakVerdict.Leak, TimeToSoftLimit: not null, SoftLimit: > 0 };

    // A time to exhaustion is an estimate: whole minutes below a day, whole hours above.
    private static TimeSpan Round(TimeSpan t) =>
        t >= TimeSpan.FromDays(1) ? TimeSpan.FromHours(Math.Round(t.TotalHours))
        : t >= TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(Math.Round(t.TotalMinutes))
        : TimeSpan.FromSeconds(Math.Round(t.TotalSeconds));
}
