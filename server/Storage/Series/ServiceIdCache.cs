using System.Collections.Concurrent;
using Fleet.Server.Storage.Entities;

namespace Fleet.Server.Storage.Series;

/// <summary>What is known of a committed service instance row.</summary>
internal readonly record struct ServiceRow(int Id, short Source, DateTimeOffset FirstSeen, DateTimeOffset LastSeen);

/// <summary>
/// Service instance ids by (host, name), so a snapshot whose services are all known needs no statement for
/// them. Entries are added only after the transaction that wrote them committed, so an id in here always
/// names a row; a stale first/last seen only costs an extra upsert.
/// </summary>
internal sealed class ServiceIdCache
{
    private readonly ConcurrentDictionary<(int HostId, string Name), ServiceRow> _rows = new();

    public bool TryGet(int hostId, string name, out ServiceRow row) => _rows.TryGetValue((hostId, name), out row);

    /// <summary>True when the row must be written: unknown, another source, or the time falls outside first/last seen.</summary>
    public bool NeedsUpsert(int hostId, string name, short source, DateTimeOffset time) =>
        !_rows.TryGetValue((hostId, name), out var row)
        || row.Source != source
        || time < row.FirstSeen
        || time > row.LastSeen + ServiceEntity.LastSeenResolution;

    public void Set(int hostId, string name, ServiceRow row) =>
        _rows.AddOrUpdate((hostId, name), row, (_, old) => new ServiceRow(
            row.Id,
            row.Source,
            row.FirstSeen < old.FirstSeen ? row.FirstSeen : old.FirstSeen,
            row.LastSeen > old.LastSeen ? row.LastSeen : old.LastSeen));
}
