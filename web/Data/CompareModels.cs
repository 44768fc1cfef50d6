namespace Fleet.Web.Data;

/// <summary>
/// One column of a comparison: a host, or one service's instance on a host (<see cref="Service"/> set).
/// <see cref="Label"/> names its lines on the graphs and its column in the settings table.
/// </summary>
public sealed record CompareSubject(string Host, string? Service)
{
    public string Label => Service is null ? Host : $"{Service} on {Host}";
}

/// <summary>
/// Two or more hosts (or the instances of one service) over one window: their series on one time axis (one line a
/// subject, the same grid for all), the limits and kernel settings side by side, and known trouble found in them.
/// Built from the hosts' <see cref="HostView"/>s alone (see Fleet.Web.Compare.Comparison), so a live comparison and
/// one opened from an incident snapshot show the same figures for the same views.
/// </summary>
public sealed record CompareView(
    TimeWindow Window,
    string? Service,
    IReadOnlyList<CompareSubject> Subjects,
    CompareSeries Series,
    IReadOnlyList<SettingRow> Settings,
    IReadOnlyList<TroubleFinding> Findings,
    IReadOnlyList<string> MissingHosts);

/// <summary>Each set holds one line per subject, named by its <see cref="CompareSubject.Label"/>; percentages are of the limit (0–100+).</summary>
public sealed record CompareSeries(
    SeriesSet OpenFds,
    SeriesSet SoftLimitPercent,
    SeriesSet CloseWait,
    SeriesSet FileHandlesPercent,
    SeriesSet EphemeralPortsPercent,
    SeriesSet ConntrackPercent,
    SeriesSet OrphansPercent);

/// <summary>
/// A limit or kernel setting across subjects: <see cref="Values"/> in the order of the subjects (null where a subject
/// does not report it), <see cref="Differs"/> when two known values differ. <see cref="Key"/> is stable
/// (for example "nofile_soft", "file_max", "ip_local_port_range"); <see cref="Service"/> is set for per-service limits.
/// </summary>
public sealed record SettingRow(string Key, string Label, string? Service, IReadOnlyList<string?> Values, bool Differs);

public enum TroubleSeverity
{
    Warning,
    Critical,
}

/// <summary>A known cause of fd or socket exhaustion found in a subject's settings, with the figures that show it.</summary>
public sealed record TroubleFinding(string Subject, string Key, TroubleSeverity Severity, string Message);

/// <summary>Services that run on two or more hosts and whose limits or host settings differ between those hosts.</summary>
public sealed record DriftView(DateTimeOffset At, int HostsRead, IReadOnlyList<ServiceDrift> Services)
{
    /// <summary>Hosts left out because their latest snapshot is too old to speak for them (not seen within a day).</summary>
    public IReadOnlyList<string> LeftOut { get; init; } = [];

    /// <summary>Known trouble in the hosts' own settings and headroom (ports, file handles, conntrack...), once per host, critical first.</summary>
    public IReadOnlyList<TroubleFinding> HostFindings { get; init; } = [];
}

/// <summary>One service: the hosts running it, the settings that differ between them (one value per host, in <see cref="Hosts"/> order), and known trouble.</summary>
public sealed record ServiceDrift(string Service, IReadOnlyList<string> Hosts, IReadOnlyList<SettingRow> Differences, IReadOnlyList<TroubleFinding> Findings);

/// <summary>The fleet's drift, from each host's latest snapshot. Bounded by its token.</summary>
public interface IDriftData
{
    Task<DriftView> DriftAsync(CancellationToken ct);
}
