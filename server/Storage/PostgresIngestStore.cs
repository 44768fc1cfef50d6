using System.Buffers;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Fleet.Server.Storage.Entities;
using Fleet.Server.Storage.Partitions;
using Fleet.Server.Storage.Series;
using Google.Protobuf;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using static Fleet.Server.Storage.Series.SnapshotFigures;

namespace Fleet.Server.Storage;

/// <summary>
/// Stores batches of snapshots exactly once per (agent, sequence), one transaction per batch: it locks the
/// batch's agent rows (and host rows) in id order, decides per item whether it is new or a duplicate, upserts
/// the service instances it does not know yet, COPYs the series rows of the whole batch (one binary COPY per
/// table), and records in one statement each the agents' last committed sequences, the hosts' last seen and
/// latest snapshot (only the newest of each host in the batch) and the minutes for the rollups.
/// </summary>
public sealed partial class PostgresIngestStore(
    NpgsqlDataSource dataSource,
    IDbContextFactory<FleetDbContext> contexts,
    PartitionManager partitions,
    IOptions<StorageOptions> options,
    TimeProvider time,
    ILogger<PostgresIngestStore> logger) : IIngestStore, IEnrollmentTokenCatalog
{
    // Agents first, then hosts, each in id order: every writer takes the locks in one order, so two batches
    // sharing agents or hosts wait for each other instead of deadlocking. Services and rollup_queue rows are
    // keyed by host, so the host locks also order the writes to them.
    private const string LockAgentsSql = "SELECT id, last_committed_sequence FROM agents WHERE id = ANY($1) ORDER BY id FOR UPDATE";

    private const string LockHostsSql = "SELECT id, latest_collected_at FROM hosts WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE";

    private const string UpsertServicesSql = """
        INSERT INTO services AS s (host_id, name, source, first_seen, last_seen)
        SELECT * FROM unnest($1::integer[], $2::text[], $3::smallint[], $4::timestamptz[], $5::timestamptz[])
        ON CONFLICT (host_id, name) DO UPDATE SET
            source = CASE WHEN excluded.last_seen >= s.last_seen THEN excluded.source ELSE s.source END,
            first_seen = least(s.first_seen, excluded.first_seen),
            last_seen = greatest(s.last_seen, excluded.last_seen)
        RETURNING id, host_id, name, source, first_seen, last_seen
        """;

    // A host whose newest snapshot in the batch is newer than the one it keeps (decided under the row lock): its
    // identity and latest snapshot are replaced. A replayed older snapshot only refreshes last seen.
    private const string UpdateNewestSql = """
        UPDATE hosts SET
            last_seen = greatest(last_seen, $1),
            hostname = coalesce(nullif($3, ''), hostname), kernel = $4, boot_id = $5, agent_version = $6,
            latest_snapshot = $7, latest_collected_at = $2
        WHERE id = $8
        """;

    private const string UpdateSeenSql = "UPDATE hosts SET last_seen = greatest(last_seen, $1) WHERE id = ANY($2)";

    private const string UpdateAgentsSql = """
        UPDATE agents AS a SET last_committed_sequence = u.sequence, last_seen = greatest(a.last_seen, $1)
        FROM unnest($2::bigint[], $3::bigint[]) AS u(id, sequence)
        WHERE a.id = u.id
        """;

    // DO UPDATE (not DO NOTHING) locks the queue rows until commit, so the rollup (SKIP LOCKED) cannot take
    // a bucket away before this transaction's rows are visible.
    private const string TouchRollupsSql = """
        INSERT INTO rollup_queue (host_id, minute) SELECT * FROM unnest($1::integer[], $2::timestamptz[])
        ON CONFLICT (host_id, minute) DO UPDATE SET touched_at = now()
        """;

    private const string RegisterSql = """
        WITH h AS (
            INSERT INTO hosts (machine_id, hostname, kernel, boot_id, agent_version, first_seen, last_seen)
            VALUES ($1, $2, $3, $4, $5, $6, $6)
            ON CONFLICT (machine_id) DO UPDATE SET
                hostname = excluded.hostname, kernel = excluded.kernel, boot_id = excluded.boot_id,
                agent_version = excluded.agent_version, last_seen = greatest(hosts.last_seen, excluded.last_seen)
            RETURNING id, hostname
        ), a AS (
            INSERT INTO agents (agent_id, host_id, token_id, version, peer_address, last_committed_sequence, first_seen, last_seen)
            SELECT $7, h.id, $8, $5, $9, 0, $6, $6 FROM h
            ON CONFLICT (agent_id) DO UPDATE SET
                host_id = excluded.host_id, token_id = excluded.token_id, version = excluded.version,
                peer_address = excluded.peer_address, last_seen = greatest(agents.last_seen, excluded.last_seen)
            RETURNING id, host_id, last_committed_sequence
        )
        SELECT a.id, a.host_id, h.hostname, a.last_committed_sequence FROM a JOIN h ON h.id = a.host_id
        """;

    private readonly ServiceIdCache _services = new();
    private readonly int _topProcesses = options.Value.TopProcesses;

    public async Task<EnrollmentToken?> FindTokenAsync(byte[] tokenHash, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var token = await db.EnrollmentTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == tokenHash, ct);
        return token is null ? null : ToRecord(token);
    }

    public async Task<IReadOnlyList<long>> RevokedAmongAsync(IReadOnlyCollection<long> tokenIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        if (tokenIds.Count == 0)
        {
            return [];
        }
        long[] ids = [.. tokenIds];
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.EnrollmentTokens.AsNoTracking()
            .Where(t => ids.Contains(t.Id) && t.RevokedAt != null)
            .Select(t => t.Id)
            .ToListAsync(ct);
    }

    public async Task<EnrollmentToken> AddTokenAsync(string name, byte[] tokenHash, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var token = new EnrollmentTokenEntity { Name = name, TokenHash = tokenHash, CreatedAt = time.GetUtcNow() };
        db.EnrollmentTokens.Add(token);
        await db.SaveChangesAsync(ct);
        return ToRecord(token);
    }

    public async Task<IReadOnlyList<EnrollmentToken>> ListTokensAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var tokens = await db.EnrollmentTokens.AsNoTracking().OrderBy(t => t.CreatedAt).ThenBy(t => t.Id).ToListAsync(ct);
        return [.. tokens.Select(ToRecord)];
    }

    private static EnrollmentToken ToRecord(EnrollmentTokenEntity t) => new(t.Id, t.Name, t.CreatedAt, t.RevokedAt is not null);

    public async Task<AgentRegistration> RegisterAgentAsync(AgentHello hello, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(hello.AgentId);
        ArgumentException.ThrowIfNullOrEmpty(hello.Host?.MachineId, "hello.Host.MachineId");
        var host = hello.Host!;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(RegisterSql, conn)
        {
            Parameters =
            {
                new() { Value = host.MachineId },
                new() { Value = host.Hostname },
                new() { Value = host.Kernel },
                new() { Value = host.BootId },
                new() { Value = hello.AgentVersion.Length > 0 ? hello.AgentVersion : host.AgentVersion },
                new() { Value = time.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new() { Value = hello.AgentId },
                new() { Value = hello.TokenId > 0 ? hello.TokenId : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint },
                new() { Value = (object?)hello.PeerAddress ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
            },
        };
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            throw new InvalidOperationException($"registering agent {hello.AgentId} returned no row");
        }
        return new AgentRegistration(reader.GetInt64(0), reader.GetInt32(1), hello.AgentId, reader.GetString(2), (ulong)reader.GetInt64(3));
    }

    public async Task<IReadOnlyList<StoreOutcome>> StoreSnapshotsAsync(IReadOnlyList<(AgentRegistration Agent, Snapshot Snapshot)> batch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return [];
        }
        var items = new Item[batch.Count];
        var days = new HashSet<DateOnly>();
        var cutoff = partitions.RawCutoff;
        for (int i = 0; i < items.Length; i++)
        {
            var (agent, snapshot) = batch[i];
            ArgumentNullException.ThrowIfNull(agent);
            ArgumentNullException.ThrowIfNull(snapshot);
            if (snapshot.Sequence is 0 or > long.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(batch), snapshot.Sequence, "snapshot.sequence must be between 1 and 2^63 - 1");
            }
            if (snapshot.CollectedAt is null)
            {
                throw new ArgumentException("snapshot.collected_at is missing", nameof(batch));
            }
            var collectedAt = Time(snapshot.CollectedAt);
            var day = DateOnly.FromDateTime(collectedAt);
            // Raw samples older than the retention would be dropped at once: such a late snapshot only advances
            // the sequence (and the host's last seen).
            bool keepSeries = day >= cutoff;
            if (keepSeries)
            {
                days.Add(day);
            }
            else
            {
                LogPastRetention(logger, agent.AgentId, snapshot.Sequence, collectedAt);
            }
            items[i] = new Item(agent, checked((int)agent.HostKey), snapshot, (long)snapshot.Sequence, collectedAt, keepSeries);
        }
        foreach (var day in days)
        {
            await partitions.EnsureDayAsync(day, ct);
        }
        try
        {
            return await StoreAsync(items, ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CheckViolation && e.MessageText.StartsWith("no partition", StringComparison.Ordinal))
        {
            // Dropped or never made: the replay makes it again.
            foreach (var day in days)
            {
                partitions.Forget(day);
            }
            throw;
        }
    }

    private async Task<StoreOutcome[]> StoreAsync(Item[] items, CancellationToken ct)
    {
        using var latestBytes = LatestSnapshots.Serialize(items, _topProcesses);
        var now = time.GetUtcNow().UtcDateTime;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);

        var (committed, latest) = await LockAsync(conn, tx, items, ct);
        var outcomes = new StoreOutcome[items.Length];
        var stored = new List<Item>(items.Length);
        for (int i = 0; i < items.Length; i++)
        {
            var item = items[i];
            if (!committed.TryGetValue(item.Agent.AgentKey, out long last))
            {
                throw new InvalidOperationException($"agent {item.Agent.AgentId} (key {item.Agent.AgentKey}) is not registered");
            }
            // In batch order: a second item of the same agent counts the first as committed.
            if (item.Sequence <= last)
            {
                outcomes[i] = StoreOutcome.Duplicate;
                continue;
            }
            committed[item.Agent.AgentKey] = item.Sequence;
            outcomes[i] = StoreOutcome.Stored;
            stored.Add(item);
        }
        if (stored.Count == 0)
        {
            await tx.RollbackAsync(ct);
            return outcomes;
        }

        var (serviceIds, written) = await ResolveServicesAsync(conn, tx, stored, ct);
        using (var rows = new SeriesRows(stored.Count, _topProcesses))
        {
            foreach (var item in stored)
            {
                if (item.KeepSeries)
                {
                    rows.Add(item.HostId, item.Snapshot, item.CollectedAt, serviceIds[item.HostId]);
                }
            }
            await rows.CopyAsync(conn, ct);
        }

        await using (var batch = new NpgsqlBatch(conn, tx))
        {
            if (TouchRollups(stored) is { } touch)
            {
                batch.BatchCommands.Add(touch);
            }
            foreach (var command in UpdateHosts(stored, latest, latestBytes, now))
            {
                batch.BatchCommands.Add(command);
            }
            batch.BatchCommands.Add(UpdateAgents(stored, committed, now));
            await batch.PrepareAsync(ct);
            await batch.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);

        foreach (var (hostId, name, row) in written)
        {
            _services.Set(hostId, name, row);
        }
        return outcomes;
    }

    /// <summary>Locks the batch's agents and hosts; returns each agent's last committed sequence and each host's latest collected_at.</summary>
    private static async Task<(Dictionary<long, long> Committed, Dictionary<int, DateTime?> Latest)> LockAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, Item[] items, CancellationToken ct)
    {
        long[] agentKeys = [.. items.Select(i => i.Agent.AgentKey).Distinct().Order()];
        int[] hostIds = [.. items.Select(i => i.HostId).Distinct().Order()];
        var committed = new Dictionary<long, long>(agentKeys.Length);
        var latest = new Dictionary<int, DateTime?>(hostIds.Length);
        await using var batch = new NpgsqlBatch(conn, tx)
        {
            BatchCommands =
            {
                Command(LockAgentsSql, new NpgsqlParameter<long[]> { TypedValue = agentKeys }),
                Command(LockHostsSql, new NpgsqlParameter<int[]> { TypedValue = hostIds }),
            },
        };
        await batch.PrepareAsync(ct);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            committed[reader.GetInt64(0)] = reader.GetInt64(1);
        }
        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            latest[reader.GetInt32(0)] = reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTime>(1);
        }
        return (committed, latest);
    }

    /// <summary>
    /// Service instance ids by host and name for every service the stored snapshots use; one upsert for those not
    /// known yet or whose source or first/last seen moves (first/last seen over all the batch's snapshots of the host).
    /// </summary>
    private async Task<(Dictionary<int, Dictionary<string, int>> Ids, List<(int HostId, string Name, ServiceRow Row)> Written)> ResolveServicesAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, List<Item> stored, CancellationToken ct)
    {
        var seen = new Dictionary<(int HostId, string Name), (short Source, DateTime First, DateTime Last)>();
        var sources = new Dictionary<string, short>(StringComparer.Ordinal);
        var ids = new Dictionary<int, Dictionary<string, int>>();
        foreach (var item in stored)
        {
            if (!item.KeepSeries)
            {
                continue;
            }
            if (!ids.ContainsKey(item.HostId))
            {
                ids[item.HostId] = new Dictionary<string, int>(StringComparer.Ordinal);
            }
            // A process's service that the snapshot does not list as a service has source 0.
            sources.Clear();
            foreach (var s in item.Snapshot.Services)
            {
                sources.TryAdd(s.Name, (short)s.Source);
            }
            foreach (var p in item.Snapshot.Processes)
            {
                sources.TryAdd(p.Service, 0);
            }
            foreach (var (name, source) in sources)
            {
                var key = (item.HostId, name);
                if (!seen.TryGetValue(key, out var known))
                {
                    seen[key] = (source, item.CollectedAt, item.CollectedAt);
                    continue;
                }
                seen[key] = (
                    item.CollectedAt >= known.Last ? source : known.Source,
                    item.CollectedAt < known.First ? item.CollectedAt : known.First,
                    item.CollectedAt > known.Last ? item.CollectedAt : known.Last);
            }
        }
        var upsert = new List<(int HostId, string Name, short Source, DateTime First, DateTime Last)>();
        foreach (var ((hostId, name), (source, first, last)) in seen)
        {
            if (_services.NeedsUpsert(hostId, name, source, new DateTimeOffset(first))
                || _services.NeedsUpsert(hostId, name, source, new DateTimeOffset(last))
                || !_services.TryGet(hostId, name, out var row))
            {
                upsert.Add((hostId, name, source, first, last));
            }
            else
            {
                ids[hostId][name] = row.Id;
            }
        }
        var written = new List<(int, string, ServiceRow)>();
        if (upsert.Count == 0)
        {
            return (ids, written);
        }
        // One order for every writer (the host locks already order them; this keeps it so without them).
        upsert.Sort((a, b) => a.HostId != b.HostId ? a.HostId.CompareTo(b.HostId) : string.CompareOrdinal(a.Name, b.Name));
        await using var cmd = new NpgsqlCommand(UpsertServicesSql, conn, tx)
        {
            Parameters =
            {
                new NpgsqlParameter<int[]> { TypedValue = [.. upsert.Select(u => u.HostId)] },
                new NpgsqlParameter<string[]> { TypedValue = [.. upsert.Select(u => u.Name)] },
                new NpgsqlParameter<short[]> { TypedValue = [.. upsert.Select(u => u.Source)] },
                TimestampTzArray([.. upsert.Select(u => u.First)]),
                TimestampTzArray([.. upsert.Select(u => u.Last)]),
            },
        };
        await cmd.PrepareAsync(ct);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var row = new ServiceRow(reader.GetInt32(0), reader.GetInt16(3), reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5));
            int hostId = reader.GetInt32(1);
            string name = reader.GetString(2);
            ids[hostId][name] = row.Id;
            written.Add((hostId, name, row));
        }
        return (ids, written);
    }

    /// <summary>The (host, minute) buckets the batch's series fall in, for the rollups; null when it stored no series.</summary>
    private static NpgsqlBatchCommand? TouchRollups(List<Item> stored)
    {
        var buckets = stored.Where(i => i.KeepSeries).Select(i => (i.HostId, Minute: Minute(i.CollectedAt))).Distinct().Order().ToList();
        if (buckets.Count == 0)
        {
            return null;
        }
        return Command(TouchRollupsSql,
            new NpgsqlParameter<int[]> { TypedValue = [.. buckets.Select(b => b.HostId)] },
            TimestampTzArray([.. buckets.Select(b => b.Minute)]));
    }

    /// <summary>
    /// Per host, in id order: last seen, and when its newest stored snapshot of the batch is newer than the one it
    /// keeps, that snapshot (one statement per such host: a bytea[] of tens of MiB through unnest costs the server
    /// several times more); one statement for the last seen of the other hosts.
    /// </summary>
    private static IEnumerable<NpgsqlBatchCommand> UpdateHosts(List<Item> stored, Dictionary<int, DateTime?> latest, LatestSnapshots serialized, DateTime now)
    {
        var newest = new SortedDictionary<int, Item>();
        foreach (var item in stored)
        {
            if (!newest.TryGetValue(item.HostId, out var n) || item.CollectedAt >= n.CollectedAt)
            {
                newest[item.HostId] = item;
            }
        }
        var seenOnly = new List<int>();
        foreach (var (hostId, item) in newest)
        {
            if (latest.GetValueOrDefault(hostId) is { } current && current >= item.CollectedAt)
            {
                seenOnly.Add(hostId);
                continue;
            }
            var host = item.Snapshot.Host;
            yield return Command(UpdateNewestSql,
                TimestampTz(now),
                TimestampTz(item.CollectedAt),
                new NpgsqlParameter<string> { TypedValue = host?.Hostname ?? "" },
                new NpgsqlParameter<string> { TypedValue = host?.Kernel ?? "" },
                new NpgsqlParameter<string> { TypedValue = host?.BootId ?? "" },
                new NpgsqlParameter<string> { TypedValue = host?.AgentVersion ?? "" },
                new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = serialized.Get(item.Snapshot), NpgsqlDbType = NpgsqlDbType.Bytea },
                new NpgsqlParameter<int> { TypedValue = hostId });
        }
        if (seenOnly.Count > 0)
        {
            yield return Command(UpdateSeenSql, TimestampTz(now), new NpgsqlParameter<int[]> { TypedValue = [.. seenOnly] });
        }
    }

    private static NpgsqlBatchCommand UpdateAgents(List<Item> stored, Dictionary<long, long> committed, DateTime now)
    {
        long[] keys = [.. stored.Select(i => i.Agent.AgentKey).Distinct().Order()];
        return Command(UpdateAgentsSql,
            TimestampTz(now),
            new NpgsqlParameter<long[]> { TypedValue = keys },
            new NpgsqlParameter<long[]> { TypedValue = [.. keys.Select(k => committed[k])] });
    }

    private static NpgsqlParameter<DateTime> TimestampTz(DateTime v) => new() { TypedValue = v, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    private static NpgsqlParameter<DateTime[]> TimestampTzArray(DateTime[] v) => new() { TypedValue = v, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz };

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var c = new NpgsqlBatchCommand(sql);
        c.Parameters.AddRange(parameters);
        return c;
    }

    /// <summary>
    /// The protobuf of the batch's newest snapshot per host (tens of KiB for a large host), serialized before the
    /// transaction into pooled buffers that go back to the pool when the batch is done.
    /// </summary>
    private sealed class LatestSnapshots(int top) : IDisposable
    {
        private static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Create(maxArrayLength: 16 * 1024 * 1024, maxArraysPerBucket: 256);

        private readonly Dictionary<Snapshot, (byte[] Buffer, int Length)> _bytes = new(ReferenceEqualityComparer.Instance);

        public static LatestSnapshots Serialize(Item[] items, int top)
        {
            var newest = new Dictionary<int, Item>();
            foreach (var item in items)
            {
                if (!newest.TryGetValue(item.HostId, out var n) || item.CollectedAt >= n.CollectedAt)
                {
                    newest[item.HostId] = item;
                }
            }
            var latest = new LatestSnapshots(top);
            foreach (var item in newest.Values)
            {
                latest.Get(item.Snapshot);
            }
            return latest;
        }

        /// <summary>The snapshot's protobuf (serialized now if it was not the newest of its host in the whole batch).</summary>
        public ReadOnlyMemory<byte> Get(Snapshot snapshot)
        {
            if (!_bytes.TryGetValue(snapshot, out var bytes))
            {
                var kept = SnapshotFigures.LatestKept(snapshot, top);
                int length = kept.CalculateSize();
                var buffer = Pool.Rent(length);
                kept.WriteTo(buffer.AsSpan(0, length));
                _bytes[snapshot] = bytes = (buffer, length);
            }
            return bytes.Buffer.AsMemory(0, bytes.Length);
        }


        public void Dispose()
        {
            foreach (var (buffer, _) in _bytes.Values)
            {
                Pool.Return(buffer);
            }
            _bytes.Clear();
        }
    }

    /// <summary>A snapshot of the batch, with what the store derives from it.</summary>
    private readonly record struct Item(AgentRegistration Agent, int HostId, Snapshot Snapshot, long Sequence, DateTime CollectedAt, bool KeepSeries);

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot {Sequence} of agent {AgentId} was collected at {CollectedAt:O}, past the raw retention: only its sequence is recorded")]
    private static partial void LogPastRetention(ILogger logger, string agentId, ulong sequence, DateTime collectedAt);
}
