namespace Fleet.Web.Data;

/// <summary>The page an incident snapshot was exported from; its read-only view opens on the same page.</summary>
public enum SnapshotOrigin
{
    Host,
    Service,
    Compare,
}

/// <summary>
/// What to freeze: the hosts (one for a host page, the service's hosts for a service page, the compared hosts), the
/// service (service page, or a comparison of one service's instances), the window, a title and notes.
/// </summary>
public sealed record SnapshotRequest(
    string Title,
    string Notes,
    SnapshotOrigin Origin,
    IReadOnlyList<string> Hosts,
    string? Service,
    DateTimeOffset From,
    DateTimeOffset To)
{
    public const int MaxTitleLength = 200;
    public const int MaxNotesLength = 20_000;
    public const int MaxHosts = 20;
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(7);

    /// <summary>Every problem, each starting with the field it concerns ("title: required"); empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Title))
        {
            errors.Add("title: required");
        }
        else if (Title.Length > MaxTitleLength || Title.Any(c => char.IsControl(c)))
        {
            errors.Add($"title: at most {MaxTitleLength} characters, without control characters");
        }
        if (Notes is null || Notes.Length > MaxNotesLength)
        {
            errors.Add($"notes: at most {MaxNotesLength} characters");
        }
        if (!Enum.IsDefined(Origin))
        {
            errors.Add("origin: unknown");
        }
        if (Hosts is null || Hosts.Count == 0)
        {
            errors.Add("hosts: at least one host");
        }
        else if (Hosts.Count > MaxHosts)
        {
            errors.Add($"hosts: at most {MaxHosts}");
        }
        else if (Hosts.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("hosts: a host name is empty");
        }
        if (Origin == SnapshotOrigin.Service && string.IsNullOrWhiteSpace(Service))
        {
            errors.Add("service: required for a service snapshot");
        }
        if (To <= From)
        {
            errors.Add("to: must be after from");
        }
        else if (To - From > MaxRange)
        {
            errors.Add($"to: the range is at most {MaxRange.TotalDays:0} days");
        }
        return errors;
    }
}

/// <summary>A stored snapshot's description (what the list shows); <see cref="ImportedFrom"/> names the archive's origin server when imported.</summary>
public sealed record SnapshotInfo(
    long Id,
    string Title,
    string Notes,
    SnapshotOrigin Origin,
    IReadOnlyList<string> Hosts,
    string? Service,
    DateTimeOffset From,
    DateTimeOffset To,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    string? ImportedFrom,
    long SizeBytes);

/// <summary>
/// A frozen incident: the views the pages showed for the window (host views with their latest detail, the service
/// view, the alerts that fired), kept in PostgreSQL apart from the series tables so they outlive retention.
/// The read-only pages render these records with the same components as the live pages.
/// </summary>
public sealed record IncidentSnapshot(
    SnapshotInfo Info,
    IReadOnlyList<HostView> Hosts,
    ServiceView? ServiceView,
    IReadOnlyList<AlertView> Alerts)
{
    public TimeWindow Window => new(Info.From, Info.To, false, "custom");
}

/// <summary>A snapshot that could not be made, imported or renamed: every problem, each naming its field.</summary>
public sealed class SnapshotRefusedException(IReadOnlyList<string> errors) : Exception("snapshot refused: " + string.Join("; ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>
/// Incident snapshots. Changes are audited under <c>actor</c> (the signed-in user). Create, import and rename throw <see cref="SnapshotRefusedException"/> on bad input;
/// the archive (<c>GET /api/snapshots/{id}/archive</c>) is a zip of snapshot.json and CSV files of the series.
/// </summary>
public interface IIncidentSnapshots
{
    Task<IReadOnlyList<SnapshotInfo>> ListAsync(CancellationToken ct);

    Task<SnapshotInfo> CreateAsync(SnapshotRequest request, string actor, CancellationToken ct);

    Task<IncidentSnapshot?> OpenAsync(long id, CancellationToken ct);

    Task<SnapshotInfo?> RenameAsync(long id, string title, string actor, CancellationToken ct);

    Task<bool> DeleteAsync(long id, string actor, CancellationToken ct);

    /// <summary>Writes the snapshot's archive; false when there is no such snapshot.</summary>
    Task<bool> ExportAsync(long id, Stream destination, CancellationToken ct);

    /// <summary>Stores the snapshot in an archive written by <see cref="ExportAsync"/> (here or on another Fleet server) as a new snapshot.</summary>
    Task<SnapshotInfo> ImportAsync(Stream archive, string actor, CancellationToken ct);
}
