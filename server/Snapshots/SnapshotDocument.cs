using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Fleet.Web.Data;

namespace Fleet.Server.Snapshots;

/// <summary>
/// What an incident snapshot keeps (the document column, and "document" in an archive's snapshot.json): the views the
/// pages showed for the window and the raw samples behind them at full resolution, with host and service names in
/// place of ids. <see cref="Snapshot"/>'s Info is the description as it was when the document was written; the
/// stored row's columns are the authority for the title and the rest (a rename changes only the row).
/// </summary>
public sealed record SnapshotDocument(int FormatVersion, IncidentSnapshot Snapshot, IReadOnlyList<RawTable> Raw)
{
    public const int CurrentFormatVersion = 1;
}

/// <summary>
/// The part of a <see cref="SnapshotDocument"/> the pages open: the same JSON read without its raw rows (they are
/// skipped by the reader, never materialised).
/// </summary>
public sealed record SnapshotViews(int FormatVersion, IncidentSnapshot Snapshot);

/// <summary>
/// The rows of one series table (host_samples, service_samples, process_samples, close_wait_samples) in the window:
/// every cell as text in invariant form (times ISO-8601 UTC with microseconds, reals round-trip, arrays as [a,b],
/// null for SQL NULL), host_id, service_id and worst_service_id replaced by names (columns host, service, worst_service).
/// </summary>
public sealed record RawTable(string Name, IReadOnlyList<string> Columns, IReadOnlyList<string?[]> Rows);

/// <summary>The JSON of documents and archives, and the gzip of the stored document.</summary>
public static class SnapshotJson
{
    /// <summary>
    /// The stored document's JSON: camelCase, enums by name, NaN and ±Infinity as "NaN" / "Infinity" (a percentage of
    /// an unknown limit), TimeSpan as "d.hh:mm:ss.fffffff", ulong in full; a missing value is refused with its path.
    /// </summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(allowIntegerValues: false) },
        RespectRequiredConstructorParameters = true,
        MaxDepth = 64,
    };

    /// <summary>
    /// An imported archive's JSON: as <see cref="Options"/>, and a null where the records say there cannot be one is
    /// refused with its path too (the server's own views are written as they are, and read back as written).
    /// </summary>
    public static JsonSerializerOptions ArchiveOptions { get; } = new(Options) { RespectNullableAnnotations = true };

    public static byte[] Compress(SnapshotDocument document)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            JsonSerializer.Serialize(gzip, document, Options);
        }
        return buffer.ToArray();
    }

    public static SnapshotDocument Decompress(byte[] stored)
    {
        using var gzip = new GZipStream(new MemoryStream(stored, writable: false), CompressionMode.Decompress);
        return JsonSerializer.Deserialize<SnapshotDocument>(gzip, Options)
            ?? throw new InvalidDataException("the stored snapshot document is empty");
    }

    /// <summary>The views of a stored document, its raw rows skipped.</summary>
    public static SnapshotViews DecompressViews(byte[] stored)
    {
        using var gzip = new GZipStream(new MemoryStream(stored, writable: false), CompressionMode.Decompress);
        return JsonSerializer.Deserialize<SnapshotViews>(gzip, Options)
            ?? throw new InvalidDataException("the stored snapshot document is empty");
    }

    public static byte[] Sha256(byte[] document) => SHA256.HashData(document);
}
