using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Fleet.Web.Data;

namespace Fleet.Server.Snapshots;

/// <summary>snapshot.json of an archive: what it is, when and where it was exported, and the whole document.</summary>
public sealed record SnapshotArchiveFile(string Format, int FormatVersion, DateTimeOffset ExportedAt, string ExportedFrom, SnapshotDocument Document);

/// <summary>
/// The downloadable form of a snapshot: a zip of snapshot.json (the authority on import) and CSV of the series for
/// spreadsheets: raw/&lt;table&gt;.csv (the raw samples, names in place of ids) and series/&lt;view&gt;/&lt;graph&gt;.csv
/// (time,series,value of each graph of the views). CSV is RFC 4180 (CRLF, quoted when needed), invariant culture,
/// times ISO-8601 UTC; text that a spreadsheet would run as a formula (starting with = + - @, tab or CR) is prefixed
/// with an apostrophe. Reading refuses, naming the problem, anything but an archive written here or by another Fleet.
/// </summary>
public static class SnapshotArchive
{
    public const string Format = "fleet-incident-snapshot";
    public const int FormatVersion = 1;
    public const string ManifestName = "snapshot.json";
    public const int MaxExportedFromLength = 300;

    private static readonly char[] FormulaStarts = ['=', '+', '-', '@', '\t', '\r'];
    private static readonly char[] NeedsQuotes = [',', '"', '\r', '\n'];

    public static async Task WriteAsync(SnapshotDocument document, DateTimeOffset exportedAt, string exportedFrom, Stream destination, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(destination);
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            var manifest = zip.CreateEntry(ManifestName, CompressionLevel.Optimal);
            manifest.LastWriteTime = exportedAt;
            using (var s = manifest.Open())
            {
                JsonSerializer.Serialize(s, new SnapshotArchiveFile(Format, FormatVersion, exportedAt, exportedFrom, document), SnapshotJson.Options);
            }
            foreach (var table in document.Raw)
            {
                bool[] text = [.. table.Columns.Select(c => RawSeries.TextColumns.Contains(c))];
                WriteCsv(zip, $"raw/{Safe(table.Name)}.csv", exportedAt, table.Columns, text, table.Rows);
            }
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (view, graph, set) in Graphs(document.Snapshot))
            {
                string name = $"series/{view}/{graph}.csv";
                for (int n = 2; !names.Add(name); n++)
                {
                    name = $"series/{view}-{n}/{graph}.csv";
                }
                WriteCsv(zip, name, exportedAt, ["time", "series", "value"], [false, true, false], Points(set));
            }
        }
        buffer.Position = 0;
        await buffer.CopyToAsync(destination, ct).ConfigureAwait(false);
    }

    /// <summary>Reads and checks an archive; <see cref="SnapshotRefusedException"/> names what is wrong.</summary>
    public static async Task<SnapshotArchiveFile> ReadAsync(Stream archive, SnapshotOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(options);
        // A seekable archive (the API buffers the request body) is read in place; any other is copied, bounded.
        bool inPlace = archive.CanSeek;
        if (inPlace && archive.Length - archive.Position > options.MaxArchiveBytes)
        {
            throw Refused($"archive: larger than the {options.MaxArchiveBytes.ToString(CultureInfo.InvariantCulture)} bytes accepted");
        }
        using var copy = inPlace ? null : await BoundedCopyAsync(archive, options.MaxArchiveBytes, ct).ConfigureAwait(false)
            ?? throw Refused($"archive: larger than the {options.MaxArchiveBytes.ToString(CultureInfo.InvariantCulture)} bytes accepted");
        var buffer = copy ?? archive;
        if (buffer.Length - buffer.Position == 0)
        {
            throw Refused("archive: empty; a zip downloaded with \"Export snapshot\" is expected");
        }
        MemoryStream content;
        try
        {
            using var zip = new ZipArchive(buffer, ZipArchiveMode.Read, leaveOpen: true);
            var entry = zip.GetEntry(ManifestName) ?? throw Refused($"archive: no {ManifestName} in it; a zip downloaded with \"Export snapshot\" is expected");
            if (entry.Length > options.MaxEntryBytes)
            {
                throw Refused($"{ManifestName}: {entry.Length.ToString(CultureInfo.InvariantCulture)} bytes uncompressed, more than the {options.MaxEntryBytes.ToString(CultureInfo.InvariantCulture)} accepted");
            }
            double ratio = entry.CompressedLength > 0 ? (double)entry.Length / entry.CompressedLength : entry.Length > 0 ? double.PositiveInfinity : 1;
            if (ratio > options.MaxCompressionRatio)
            {
                throw Refused($"{ManifestName}: compressed {ratio.ToString("0", CultureInfo.InvariantCulture)} to 1, more than the {options.MaxCompressionRatio.ToString(CultureInfo.InvariantCulture)} to 1 accepted (a zip bomb?)");
            }
            // The declared size is not trusted: the read stops past the limit whatever the header says.
            await using var entryStream = entry.Open();
            content = await BoundedCopyAsync(entryStream, options.MaxEntryBytes, ct).ConfigureAwait(false)
                ?? throw Refused($"{ManifestName}: more than the {options.MaxEntryBytes.ToString(CultureInfo.InvariantCulture)} bytes accepted uncompressed");
        }
        catch (InvalidDataException e)
        {
            throw Refused($"archive: not a readable zip file ({e.Message})");
        }

        using var held = content;
        var json = new ReadOnlyMemory<byte>(content.GetBuffer(), 0, (int)content.Length);
        var (format, version) = Header(json.Span);
        if (!string.Equals(format, Format, StringComparison.Ordinal))
        {
            throw Refused(format is null
                ? $"{ManifestName}: no \"format\"; \"{Format}\" expected"
                : $"{ManifestName}: format is \"{Printable(format)}\", \"{Format}\" expected");
        }
        if (version != FormatVersion)
        {
            throw Refused(version is null
                ? $"{ManifestName}: no \"formatVersion\"; {FormatVersion} expected"
                : $"{ManifestName}: format version {version.Value.ToString(CultureInfo.InvariantCulture)} is not supported (this server reads version {FormatVersion})");
        }
        SnapshotArchiveFile? file;
        try
        {
            file = JsonSerializer.Deserialize<SnapshotArchiveFile>(json.Span, SnapshotJson.ArchiveOptions);
        }
        catch (JsonException e)
        {
            throw Refused(Malformed(e));
        }
        if (file is null)
        {
            throw Refused($"{ManifestName}: null; an object is expected");
        }
        var errors = MissingValues.Find(file.Document, "document");
        if (errors.Count > 0)
        {
            // Nothing else can be judged over missing parts.
            throw new SnapshotRefusedException(errors);
        }
        errors = Validate(file, options);
        if (errors.Count > 0)
        {
            throw new SnapshotRefusedException(errors);
        }
        return file;
    }

    /// <summary>A CSV field: empty for null; text that starts like a formula prefixed with an apostrophe; quoted when it holds a comma, quote or line break.</summary>
    public static string CsvField(string? value, bool text)
    {
        if (value is null)
        {
            return "";
        }
        if (text && value.Length > 0 && FormulaStarts.Contains(value[0]))
        {
            value = "'" + value;
        }
        return value.IndexOfAny(NeedsQuotes) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    private static List<string> Validate(SnapshotArchiveFile file, SnapshotOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(file.ExportedFrom) || file.ExportedFrom.Length > MaxExportedFromLength || file.ExportedFrom.Any(char.IsControl))
        {
            errors.Add($"exportedFrom: 1 to {MaxExportedFromLength} printable characters");
        }
        var document = file.Document;
        if (document.FormatVersion != SnapshotDocument.CurrentFormatVersion)
        {
            errors.Add($"document.formatVersion: {document.FormatVersion.ToString(CultureInfo.InvariantCulture)} is not supported (this server reads version {SnapshotDocument.CurrentFormatVersion})");
        }
        var info = document.Snapshot.Info;
        errors.AddRange(new SnapshotRequest(info.Title, info.Notes, info.Origin, info.Hosts, info.Service, info.From, info.To).Validate());
        if (info.Service is { Length: > Dashboard.PostgresDashboardData.MaxNameLength })
        {
            errors.Add($"service: at most {Dashboard.PostgresDashboardData.MaxNameLength} characters");
        }
        if (info.Hosts is not null && info.Hosts.Any(h => h is { Length: > Dashboard.PostgresDashboardData.MaxNameLength }))
        {
            errors.Add($"hosts: a host name is longer than {Dashboard.PostgresDashboardData.MaxNameLength} characters");
        }
        var listed = new HashSet<string>(info.Hosts ?? [], StringComparer.Ordinal);
        foreach (var host in document.Snapshot.Hosts.Where(h => !listed.Contains(h.Detail.Name)))
        {
            errors.Add($"hosts: the snapshot holds host '{Printable(host.Detail.Name)}', which its hosts do not list");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long rows = 0;
        foreach (var table in document.Raw)
        {
            if (!RawSeries.Tables.TryGetValue(table.Name, out var columns))
            {
                errors.Add($"raw: unknown table \"{Printable(table.Name)}\" (known: {string.Join(", ", RawSeries.Tables.Keys)})");
                continue;
            }
            if (!seen.Add(table.Name))
            {
                errors.Add($"raw: table {table.Name} appears twice");
            }
            if (!table.Columns.SequenceEqual(columns, StringComparer.Ordinal))
            {
                errors.Add($"raw.{table.Name}: the columns are not those of this format version ({string.Join(",", columns)})");
            }
            int bad = table.Rows.Count(r => r is null || r.Length != columns.Length);
            if (bad > 0)
            {
                errors.Add($"raw.{table.Name}: {bad.ToString(CultureInfo.InvariantCulture)} rows without {columns.Length.ToString(CultureInfo.InvariantCulture)} cells");
            }
            rows += table.Rows.Count;
        }
        if (rows > options.MaxRawRows)
        {
            errors.Add($"raw: {rows.ToString(CultureInfo.InvariantCulture)} rows, more than the {options.MaxRawRows.ToString(CultureInfo.InvariantCulture)} one snapshot keeps");
        }
        return errors;
    }

    /// <summary>The top-level "format" and "formatVersion", read without deserialising the document.</summary>
    private static (string? Format, int? Version) Header(ReadOnlySpan<byte> json)
    {
        string? format = null;
        int? version = null;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw Refused($"{ManifestName}: not a JSON object");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                reader.Read();
                if (name == "format" && reader.TokenType == JsonTokenType.String)
                {
                    format = reader.GetString();
                }
                else if (name == "formatVersion" && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int v))
                {
                    version = v;
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException e)
        {
            throw Refused(Malformed(e));
        }
        return (format, version);
    }

    private static string Malformed(JsonException e)
    {
        string reason = e.Message;
        int cut = reason.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }
        reason = cut > 0 ? reason[..cut] : reason;
        string at = e.Path is { Length: > 0 } path ? path : "$";
        string line = e.LineNumber is { } l ? $", line {(l + 1).ToString(CultureInfo.InvariantCulture)}" : "";
        string column = e.BytePositionInLine is { } b ? $", byte {(b + 1).ToString(CultureInfo.InvariantCulture)}" : "";
        return $"{ManifestName}: malformed JSON at {at}{line}{column}: {Printable(reason)}";
    }

    /// <summary>A copy of at most <paramref name="limit"/> bytes; null when there is more.</summary>
    private static async Task<MemoryStream?> BoundedCopyAsync(Stream source, long limit, CancellationToken ct)
    {
        var copy = new MemoryStream();
        byte[] chunk = new byte[81920];
        while (true)
        {
            int n = await source.ReadAsync(chunk, ct).ConfigureAwait(false);
            if (n == 0)
            {
                copy.Position = 0;
                return copy;
            }
            if (copy.Length + n > limit)
            {
                await copy.DisposeAsync().ConfigureAwait(false);
                return null;
            }
            copy.Write(chunk, 0, n);
        }
    }

    private static void WriteCsv(ZipArchive zip, string name, DateTimeOffset at, IReadOnlyList<string> header, bool[] text, IEnumerable<string?[]> rows)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        entry.LastWriteTime = at;
        using var writer = new StreamWriter(entry.Open(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\r\n" };
        writer.WriteLine(string.Join(",", header.Select(h => CsvField(h, text: false))));
        var line = new StringBuilder();
        foreach (var row in rows)
        {
            line.Clear();
            for (int i = 0; i < row.Length; i++)
            {
                if (i > 0)
                {
                    line.Append(',');
                }
                line.Append(CsvField(row[i], i < text.Length && text[i]));
            }
            writer.WriteLine(line);
        }
    }

    private static IEnumerable<string?[]> Points(SeriesSet set) =>
        set.Series.SelectMany(s => s.Points.Select(p => new[]
        {
            RawSeries.Cell(p.Time),
            s.Name,
            p.Value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : null,
        }));

    /// <summary>Each graph of the views: the folder of its view ("host-&lt;name&gt;", "service-&lt;name&gt;"), its name, its lines.</summary>
    private static IEnumerable<(string View, string Graph, SeriesSet Set)> Graphs(IncidentSnapshot snapshot)
    {
        foreach (var host in snapshot.Hosts)
        {
            string view = "host-" + Safe(host.Detail.Name);
            var s = host.Series;
            yield return (view, "close_wait_by_service", s.CloseWaitByService);
            yield return (view, "soft_limit_percent_by_service", s.SoftLimitPercentByService);
            yield return (view, "open_fds_by_service", s.OpenFdsByService);
            yield return (view, "file_handles", s.FileHandles);
            yield return (view, "ephemeral_ports", s.EphemeralPorts);
            yield return (view, "tcp_orphans", s.TcpOrphans);
            yield return (view, "conntrack", s.Conntrack);
        }
        if (snapshot.ServiceView is { } service)
        {
            string view = "service-" + Safe(service.Name);
            yield return (view, "open_fds_by_instance", service.OpenFdsByInstance);
            yield return (view, "soft_limit_percent_by_instance", service.SoftLimitPercentByInstance);
            yield return (view, "close_wait_by_instance", service.CloseWaitByInstance);
        }
    }

    /// <summary>A name safe in a zip entry or a file name: letters, digits, '.', '_' and '-' kept, the rest '_', at most 60 characters.</summary>
    public static string Safe(string name)
    {
        var safe = new StringBuilder(Math.Min(name.Length, 60));
        foreach (char c in name.Take(60))
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : c == '.' && safe.Length > 0 ? c : '_');
        }
        return safe.Length == 0 ? "_" : safe.ToString();
    }

    /// <summary>Text quoted in a message with its control characters shown as '?' and cut at 100 characters.</summary>
    private static string Printable(string value)
    {
        string cut = value.Length > 100 ? value[..100] + "..." : value;
        return new string([.. cut.Select(c => char.IsControl(c) ? '?' : c)]);
    }

    private static SnapshotRefusedException Refused(string error) => new([error]);
}
