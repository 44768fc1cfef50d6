using Fleet.Web.Data;

namespace Fleet.Server.Storage.Entities;

/// <summary>
/// An incident snapshot (incident_snapshots): its description in columns (what the list shows, read without the
/// document) and the frozen views and raw series as one gzip'd JSON document (server/Snapshots/SnapshotDocument),
/// kept apart from the series tables so it outlives their retention. Every change is audited (entity "incident-snapshot").
/// </summary>
public sealed class IncidentSnapshotEntity
{
    public long Id { get; set; }

    public required string Title { get; set; }

    public string Notes { get; set; } = "";

    public SnapshotOrigin Origin { get; set; }

    public string[] Hosts { get; set; } = [];

    public string? Service { get; set; }

    public DateTimeOffset From { get; set; }

    public DateTimeOffset To { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public required string CreatedBy { get; set; }

    /// <summary>The exporting server and the snapshot's id there, when imported from an archive.</summary>
    public string? ImportedFrom { get; set; }

    /// <summary>The document's format version (server/Snapshots/SnapshotDocument.FormatVersion when written).</summary>
    public int FormatVersion { get; set; }

    /// <summary>Bytes of the stored (gzip'd) document.</summary>
    public long SizeBytes { get; set; }

    /// <summary>gzip of the document's UTF-8 JSON.</summary>
    public byte[] Document { get; set; } = [];

    /// <summary>SHA-256 of <see cref="Document"/>, checked when it is read.</summary>
    public byte[] Sha256 { get; set; } = [];

    public SnapshotInfo ToInfo() => new(Id, Title, Notes, Origin, Hosts, Service, From, To, CreatedAt, CreatedBy, ImportedFrom, SizeBytes);
}
