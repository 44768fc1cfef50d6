using Fleet.Web.Data;

namespace Fleet.Web.Tests.Snapshots;

/// <summary>
/// Snapshots kept in memory: what a test put (<see cref="Add"/>) or the pages created or imported. Records every
/// request; answers with the refusals a test sets, as the store would (<see cref="SnapshotRefusedException"/>).
/// </summary>
public sealed class FakeIncidentSnapshots : IIncidentSnapshots
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, IncidentSnapshot> _snapshots = [];
    private long _nextId = 100;

    public List<SnapshotRequest> Created { get; } = [];

    public List<(long Id, string Title)> Renamed { get; } = [];

    public List<long> Deleted { get; } = [];

    public List<long> Opened { get; } = [];

    public List<byte[]> Imported { get; } = [];

    /// <summary>When set, create refuses with these errors.</summary>
    public IReadOnlyList<string>? CreateRefusal { get; set; }

    /// <summary>When set, import refuses with these errors.</summary>
    public IReadOnlyList<string>? ImportRefusal { get; set; }

    /// <summary>What an import stores (its id is replaced by a new one); without it an import is refused.</summary>
    public IncidentSnapshot? ImportResult { get; set; }

    public IncidentSnapshot Add(IncidentSnapshot snapshot)
    {
        lock (_gate)
        {
            _snapshots[snapshot.Info.Id] = snapshot;
            return snapshot;
        }
    }

    public Task<IReadOnlyList<SnapshotInfo>> ListAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<SnapshotInfo>>([.. _snapshots.Values.Select(s => s.Info)]);
        }
    }

    public Task<SnapshotInfo> CreateAsync(SnapshotRequest request, string actor, CancellationToken ct)
    {
        lock (_gate)
        {
            Created.Add(request);
            if (CreateRefusal is { } errors)
            {
                return Task.FromException<SnapshotInfo>(new SnapshotRefusedException(errors));
            }
            var info = new SnapshotInfo(_nextId++, request.Title, request.Notes, request.Origin, request.Hosts, request.Service, request.From, request.To,
                DateTimeOffset.UtcNow, "test", null, 1234);
            _snapshots[info.Id] = new IncidentSnapshot(info, [], null, []);
            return Task.FromResult(info);
        }
    }

    public Task<IncidentSnapshot?> OpenAsync(long id, CancellationToken ct)
    {
        lock (_gate)
        {
            Opened.Add(id);
            return Task.FromResult(_snapshots.GetValueOrDefault(id));
        }
    }

    public Task<SnapshotInfo?> RenameAsync(long id, string title, string actor, CancellationToken ct)
    {
        lock (_gate)
        {
            Renamed.Add((id, title));
            if (!_snapshots.TryGetValue(id, out var s))
            {
                return Task.FromResult<SnapshotInfo?>(null);
            }
            var renamed = s with { Info = s.Info with { Title = title } };
            _snapshots[id] = renamed;
            return Task.FromResult<SnapshotInfo?>(renamed.Info);
        }
    }

    public Task<bool> DeleteAsync(long id, string actor, CancellationToken ct)
    {
        lock (_gate)
        {
            Deleted.Add(id);
            return Task.FromResult(_snapshots.Remove(id));
        }
    }

    public Task<bool> ExportAsync(long id, Stream destination, CancellationToken ct) =>
        throw new NotSupportedException("the pages link to the archive endpoint; they do not export themselves");

    public async Task<SnapshotInfo> ImportAsync(Stream archive, string actor, CancellationToken ct)
    {
        using var copy = new MemoryStream();
        await archive.CopyToAsync(copy, ct);
        lock (_gate)
        {
            Imported.Add(copy.ToArray());
            if (ImportRefusal is { } errors)
            {
                throw new SnapshotRefusedException(errors);
            }
            if (ImportResult is not { } result)
            {
                throw new SnapshotRefusedException(["archive: no snapshot.json"]);
            }
            var stored = result with { Info = result.Info with { Id = _nextId++ } };
            _snapshots[stored.Info.Id] = stored;
            return stored.Info;
        }
    }
}
