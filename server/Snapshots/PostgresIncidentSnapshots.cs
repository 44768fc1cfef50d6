using System.Globalization;
using Fleet.Server.Alerts;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fleet.Server.Snapshots;

/// <summary>
/// <see cref="IIncidentSnapshots"/> over PostgreSQL: a snapshot reads the views through the pages' own ports
/// (<see cref="IDashboardData"/>, <see cref="IAlertData"/>) and the raw samples of the window, and keeps them as one
/// gzip'd JSON document in incident_snapshots; opening one reads only that row, never the series tables. Every change
/// is saved with its audit entry (entity "incident-snapshot") in one SaveChanges.
/// </summary>
public sealed class PostgresIncidentSnapshots(
    IDbContextFactory<FleetDbContext> contexts,
    NpgsqlDataSource dataSource,
    IDashboardData dashboard,
    IAlertData alerts,
    TimeProvider time,
    IOptions<SnapshotOptions> options) : IIncidentSnapshots, IDisposable
{
    public const string AuditEntity = "incident-snapshot";

    /// <summary>How far before the window an alert may have started and still be kept (it resolved within the window).</summary>
    public static readonly TimeSpan AlertLookback = TimeSpan.FromDays(7);

    private readonly RawSeries _raw = new(dataSource);

    /// <summary>
    /// One heavy operation at a time: making, exporting or importing a snapshot holds its whole document in memory
    /// (measured: about 1 GB for two hosts over 24 h), so requests for more wait their turn instead of adding up.
    /// </summary>
    private readonly SemaphoreSlim _heavy = new(1, 1);

    private async Task<T> OneAtATimeAsync<T>(Func<Task<T>> work, CancellationToken ct)
    {
        await _heavy.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await work().ConfigureAwait(false);
        }
        finally
        {
            _heavy.Release();
        }
    }

    public void Dispose() => _heavy.Dispose();

    public async Task<IReadOnlyList<SnapshotInfo>> ListAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        return await Infos(db.IncidentSnapshots.OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id)).ToListAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The descriptions, projected: the document column is not read.</summary>
    private static IQueryable<SnapshotInfo> Infos(IQueryable<IncidentSnapshotEntity> rows) =>
        rows.AsNoTracking()
            .Select(s => new SnapshotInfo(s.Id, s.Title, s.Notes, s.Origin, s.Hosts, s.Service, s.From, s.To, s.CreatedAt, s.CreatedBy, s.ImportedFrom, s.SizeBytes));

    private static Task<SnapshotInfo?> InfoAsync(FleetDbContext db, long id, CancellationToken ct) =>
        Infos(db.IncidentSnapshots.Where(s => s.Id == id)).FirstOrDefaultAsync(ct);

    public Task<SnapshotInfo> CreateAsync(SnapshotRequest request, string actor, CancellationToken ct) => OneAtATimeAsync(() => CreateOneAsync(request, actor, ct), ct);

    private async Task<SnapshotInfo> CreateOneAsync(SnapshotRequest request, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = request.Validate().Concat(StorableTextErrors(request.Title, request.Notes, request.Hosts, request.Service, null)).ToList();
        if (errors.Count > 0)
        {
            throw new SnapshotRefusedException(errors);
        }
        string[] hostNames = [.. request.Hosts.Select(h => h.Trim()).Distinct(StringComparer.Ordinal)];
        string? service = string.IsNullOrWhiteSpace(request.Service) ? null : request.Service.Trim();
        var window = new TimeWindow(request.From, request.To, false, "custom");

        var hosts = new List<HostView>();
        var missing = new List<string>();
        foreach (string name in hostNames)
        {
            if (await dashboard.HostAsync(name, window, ct).ConfigureAwait(false) is { } view)
            {
                hosts.Add(view);
            }
            else
            {
                missing.Add($"hosts: no host named '{name}' has sent a snapshot");
            }
        }
        ServiceView? serviceView = null;
        if (service is not null)
        {
            serviceView = await dashboard.ServiceAsync(service, window, ct).ConfigureAwait(false);
            if (serviceView is null)
            {
                missing.Add($"service: no host runs a service named '{service}'");
            }
        }
        if (missing.Count > 0)
        {
            throw new SnapshotRefusedException(missing);
        }

        var hostIds = await _raw.HostIdsAsync(hostNames, ct).ConfigureAwait(false);
        var scope = new RawSeries.Scope(hostIds, request.From, request.To, service);
        long rows = await _raw.CountAsync(scope, ct).ConfigureAwait(false);
        long max = options.Value.MaxRawRows;
        if (rows > max)
        {
            throw new SnapshotRefusedException([
                $"to: the window holds {rows.ToString("N0", CultureInfo.InvariantCulture)} stored samples of these hosts, more than the {max.ToString("N0", CultureInfo.InvariantCulture)} one snapshot keeps; choose a shorter range or fewer hosts"]);
        }
        var raw = await _raw.ReadAsync(scope, ct).ConfigureAwait(false);
        var alertViews = await AlertsAsync(hostNames, service, request.From, request.To, ct).ConfigureAwait(false);

        string who = AuditEntryEntity.ActorOf(actor);
        var now = time.GetUtcNow();
        var entity = new IncidentSnapshotEntity
        {
            Title = request.Title.Trim(),
            Notes = request.Notes,
            Origin = request.Origin,
            Hosts = hostNames,
            Service = service,
            From = request.From.ToUniversalTime(),
            To = request.To.ToUniversalTime(),
            CreatedAt = now,
            CreatedBy = who,
        };
        return await SaveNewAsync(entity, hosts, serviceView, alertViews, raw, "created", ct).ConfigureAwait(false);
    }

    public async Task<IncidentSnapshot?> OpenAsync(long id, CancellationToken ct)
    {
        var entity = await LoadAsync(id, ct).ConfigureAwait(false);
        return entity is null ? null : SnapshotJson.DecompressViews(entity.Document).Snapshot with { Info = entity.ToInfo() };
    }

    /// <summary>The stored document (views and raw rows) as kept, or null when there is no such snapshot.</summary>
    internal async Task<SnapshotDocument?> DocumentAsync(long id, CancellationToken ct) =>
        await LoadAsync(id, ct).ConfigureAwait(false) is { } entity ? SnapshotJson.Decompress(entity.Document) : null;

    public async Task<SnapshotInfo?> RenameAsync(long id, string title, string actor, CancellationToken ct)
    {
        var errors = TitleErrors(title).Concat(StorableTextErrors(title, null, null, null, null)).ToList();
        if (errors.Count > 0)
        {
            throw new SnapshotRefusedException(errors);
        }
        title = title.Trim();
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var before = await InfoAsync(db, id, ct).ConfigureAwait(false);
        if (before is null)
        {
            return null;
        }
        if (string.Equals(before.Title, title, StringComparison.Ordinal))
        {
            return before;
        }
        // A stub: only the title is written, the document is neither read nor rewritten.
        var stub = new IncidentSnapshotEntity { Id = id, Title = before.Title, CreatedBy = before.CreatedBy };
        db.IncidentSnapshots.Attach(stub);
        stub.Title = title;
        var after = before with { Title = title };
        db.AuditLog.Add(AuditEntryEntity.Change(time.GetUtcNow(), AuditEntryEntity.ActorOf(actor), "renamed", AuditEntity, Id(id), title, before, after));
        try
        {
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Deleted meanwhile.
            return null;
        }
        return after;
    }

    public async Task<bool> DeleteAsync(long id, string actor, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var before = await InfoAsync(db, id, ct).ConfigureAwait(false);
        if (before is null)
        {
            return false;
        }
        // A stub: the document is not read to be deleted.
        db.IncidentSnapshots.Remove(new IncidentSnapshotEntity { Id = id, Title = before.Title, CreatedBy = before.CreatedBy });
        db.AuditLog.Add(AuditEntryEntity.Change<SnapshotInfo>(time.GetUtcNow(), AuditEntryEntity.ActorOf(actor), "deleted", AuditEntity, Id(id), before.Title, before, null));
        try
        {
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Deleted meanwhile by someone else.
            return false;
        }
        return true;
    }

    public Task<bool> ExportAsync(long id, Stream destination, CancellationToken ct) => OneAtATimeAsync(() => ExportOneAsync(id, destination, ct), ct);

    private async Task<bool> ExportOneAsync(long id, Stream destination, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var entity = await LoadAsync(id, ct).ConfigureAwait(false);
        if (entity is null)
        {
            return false;
        }
        var document = SnapshotJson.Decompress(entity.Document);
        var current = document with { Snapshot = document.Snapshot with { Info = entity.ToInfo() } };
        await SnapshotArchive.WriteAsync(current, time.GetUtcNow(), options.Value.ServerName, destination, ct).ConfigureAwait(false);
        return true;
    }

    public Task<SnapshotInfo> ImportAsync(Stream archive, string actor, CancellationToken ct) => OneAtATimeAsync(() => ImportOneAsync(archive, actor, ct), ct);

    private async Task<SnapshotInfo> ImportOneAsync(Stream archive, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(archive);
        var file = await SnapshotArchive.ReadAsync(archive, options.Value, ct).ConfigureAwait(false);
        var document = file.Document;
        var info = document.Snapshot.Info;
        var errors = StorableTextErrors(info.Title, info.Notes, info.Hosts, info.Service, file.ExportedFrom);
        if (errors.Count > 0)
        {
            throw new SnapshotRefusedException(errors);
        }
        string who = AuditEntryEntity.ActorOf(actor);
        var entity = new IncidentSnapshotEntity
        {
            Title = info.Title.Trim(),
            Notes = info.Notes,
            Origin = info.Origin,
            Hosts = [.. info.Hosts],
            Service = string.IsNullOrWhiteSpace(info.Service) ? null : info.Service,
            From = info.From.ToUniversalTime(),
            To = info.To.ToUniversalTime(),
            CreatedAt = time.GetUtcNow(),
            CreatedBy = who,
            ImportedFrom = $"{file.ExportedFrom} #{info.Id.ToString(CultureInfo.InvariantCulture)}",
        };
        var snapshot = document.Snapshot;
        return await SaveNewAsync(entity, snapshot.Hosts, snapshot.ServiceView, snapshot.Alerts, document.Raw, "imported", ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Text PostgreSQL cannot keep in text or jsonb columns (the description and its audit entry): NUL characters and
    /// unpaired surrogates. Everything else is kept verbatim.
    /// </summary>
    public static IReadOnlyList<string> StorableTextErrors(string? title, string? notes, IReadOnlyList<string>? hosts, string? service, string? exportedFrom)
    {
        var errors = new List<string>();
        Check("title", title);
        Check("notes", notes);
        if (hosts is not null && hosts.Any(h => !Storable(h)))
        {
            errors.Add(Error("hosts"));
        }
        Check("service", service);
        Check("exportedFrom", exportedFrom);
        return errors;

        void Check(string field, string? value)
        {
            if (!Storable(value))
            {
                errors.Add(Error(field));
            }
        }

        static string Error(string field) => $"{field}: without NUL characters or unpaired surrogates (they cannot be stored)";
    }

    private static bool Storable(string? value) => value is null || StoredText.IsStorable(value);

    /// <summary>The errors of a title, by the same rules as a snapshot request's.</summary>
    public static IReadOnlyList<string> TitleErrors(string? title)
    {
        var probe = new SnapshotRequest(title!, "", SnapshotOrigin.Host, ["probe"], null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddMinutes(1));
        return [.. probe.Validate().Where(e => e.StartsWith("title:", StringComparison.Ordinal))];
    }

    private async Task<SnapshotInfo> SaveNewAsync(
        IncidentSnapshotEntity entity, IReadOnlyList<HostView> hosts, ServiceView? serviceView, IReadOnlyList<AlertView> alertViews,
        IReadOnlyList<RawTable> raw, string action, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        // The id is taken first, so the document's Info and the audit entry name it, all in one SaveChanges.
        entity.Id = (await AlertRuleStore.NextIdsAsync(db, "incident_snapshots", 1, ct).ConfigureAwait(false))[0];
        var document = new SnapshotDocument(SnapshotDocument.CurrentFormatVersion, new IncidentSnapshot(entity.ToInfo(), hosts, serviceView, alertViews), raw);
        try
        {
            entity.Document = SnapshotJson.Compress(document);
        }
        catch (ArgumentException e)
        {
            // Only an imported document can hold such text: the server's own views come from validated snapshots.
            throw new SnapshotRefusedException([$"document: holds text that cannot be written as JSON ({e.Message})"]);
        }
        entity.Sha256 = SnapshotJson.Sha256(entity.Document);
        entity.SizeBytes = entity.Document.LongLength;
        entity.FormatVersion = SnapshotDocument.CurrentFormatVersion;
        var info = entity.ToInfo();
        db.IncidentSnapshots.Add(entity);
        db.AuditLog.Add(AuditEntryEntity.Change<SnapshotInfo>(entity.CreatedAt, entity.CreatedBy, action, AuditEntity, Id(entity.Id), entity.Title, null, info));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        return info;
    }

    /// <summary>The row with its document, checked against its SHA-256 and format version; null when there is no such snapshot.</summary>
    private async Task<IncidentSnapshotEntity?> LoadAsync(long id, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct).ConfigureAwait(false);
        var entity = await db.IncidentSnapshots.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct).ConfigureAwait(false);
        if (entity is null)
        {
            return null;
        }
        if (!SnapshotJson.Sha256(entity.Document).AsSpan().SequenceEqual(entity.Sha256))
        {
            throw new InvalidDataException($"incident snapshot {Id(id)}: the stored document does not match its SHA-256 (damaged in the database)");
        }
        if (entity.FormatVersion != SnapshotDocument.CurrentFormatVersion)
        {
            throw new InvalidDataException($"incident snapshot {Id(id)}: document format version {entity.FormatVersion.ToString(CultureInfo.InvariantCulture)} is not one this server reads ({SnapshotDocument.CurrentFormatVersion})");
        }
        return entity;
    }

    /// <summary>
    /// The alerts of the hosts (of the service and the hosts themselves, when a service is chosen) that were pending,
    /// firing or resolved within the window: started before its end, and not resolved before its start.
    /// </summary>
    private async Task<List<AlertView>> AlertsAsync(string[] hostNames, string? service, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        var kept = new Dictionary<long, AlertView>();
        foreach (string host in hostNames)
        {
            var history = await alerts.HistoryAsync(new AlertHistoryQuery(from - AlertLookback, to, host, null, PostgresAlertData.MaxHistoryLimit), ct).ConfigureAwait(false);
            var active = await alerts.ActiveAsync(host, ct).ConfigureAwait(false);
            foreach (var a in history.Concat(active))
            {
                bool inWindow = a.StartedAt < to && (a.ResolvedAt is not { } resolved || resolved >= from);
                bool ofService = service is null || a.Service is null || string.Equals(a.Service, service, StringComparison.Ordinal);
                if (inWindow && ofService)
                {
                    kept[a.Id] = a;
                }
            }
        }
        return [.. kept.Values.OrderByDescending(a => a.StartedAt).ThenByDescending(a => a.Id)];
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
