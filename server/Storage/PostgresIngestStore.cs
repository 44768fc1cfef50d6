using System.Net;
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
/// Stores snapshots exactly once per (agent, sequence): one transaction locks the agent row, upserts the
/// service instances it does not know yet, COPYs the series rows (one binary COPY per table), records the host's
/// latest snapshot and the agent's last committed sequence, and marks the minute for the rollups.
/// </summary>
public sealed partial class PostgresIngestStore(
    NpgsqlDataSource dataSource,
    IDbContextFactory<FleetDbContext> contexts,
    PartitionManager partitions,
    IOptions<StorageOptions> options,
    TimeProvider time,
    ILogger<PostgresIngestStore> logger) : IIngestStore, IEnrollmentTokenCatalog
{
    private static readonly string CopyServices = SeriesColumns.Copy("service_samples", SeriesColumns.ServiceSamples);
    private static readonly string CopyProcesses = SeriesColumns.Copy("process_samples", SeriesColumns.ProcessSamples);
    private static readonly string CopyCloseWait = SeriesColumns.Copy("close_wait_samples", SeriesColumns.CloseWaitSamples);
    private static readonly string InsertHostSample = SeriesColumns.Insert("host_samples", SeriesColumns.HostSamples);

    private const string LockAgentSql = "SELECT last_committed_sequence FROM agents WHERE id = $1 FOR UPDATE";

    private const string UpsertServicesSql = """
        INSERT INTO services AS s (host_id, name, source, first_seen, last_seen)
        SELECT $1, u.name, u.source, $4, $4 FROM unnest($2::text[], $3::smallint[]) AS u(name, source)
        ON CONFLICT (host_id, name) DO UPDATE SET
            source = CASE WHEN excluded.last_seen >= s.last_seen THEN excluded.source ELSE s.source END,
            first_seen = least(s.first_seen, excluded.first_seen),
            last_seen = greatest(s.last_seen, excluded.last_seen)
        RETURNING id, name, source, first_seen, last_seen
        """;

    // A replayed older snapshot refreshes last_seen but never replaces the newer latest snapshot.
    private const string UpdateHostSql = """
        UPDATE hosts SET
            last_seen = greatest(last_seen, $1),
            hostname = CASE WHEN latest_collected_at IS NULL OR latest_collected_at < $2 THEN coalesce(nullif($3, ''), hostname) ELSE hostname END,
            kernel = CASE WHEN latest_collected_at IS NULL OR latest_collected_at < $2 THEN $4 ELSE kernel END,
            boot_id = CASE WHEN latest_collected_at IS NULL OR latest_collected_at < $2 THEN $5 ELSE boot_id END,
            agent_version = CASE WHEN latest_collected_at IS NULL OR latest_collected_at < $2 THEN $6 ELSE agent_version END,
            latest_snapshot = CASE WHEN latest_collected_at IS NULL OR latest_collected_at < $2 THEN $7 ELSE latest_snapshot END,
            latest_collected_at = CASE WHEN latest_collected_at IS NULL OR latest_collected_at < $2 THEN $2 ELSE latest_collected_at END
        WHERE id = $8
        """;

    private const string UpdateAgentSql = "UPDATE agents SET last_committed_sequence = $1, last_seen = greatest(last_seen, $2) WHERE id = $3";

    // DO UPDATE (not DO NOTHING) locks the queue row until commit, so the rollup (SKIP LOCKED) cannot take
    // the bucket away before this transaction's rows are visible.
    private const string TouchRollupSql = """
        INSERT INTO rollup_queue (host_id, minute) VALUES ($1, $2)
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

    private static readonly FdCounts NoFds = new();
    private static readonly TcpStates NoTcp = new();
    private static readonly SystemFigures NoSystem = new();
    private static readonly AgentCost NoCost = new();

    private readonly ServiceIdCache _services = new();
    private readonly int _topProcesses = options.Value.TopProcesses;

    public async Task<EnrollmentToken?> FindTokenAsync(byte[] tokenHash, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var token = await db.EnrollmentTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == tokenHash, ct);
        return token is null ? null : ToRecord(token);
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

    public async Task<StoreOutcome> StoreSnapshotAsync(AgentRegistration agent, Snapshot snapshot, CancellationToken ct)
    {
        if (snapshot.Sequence is 0 or > long.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(snapshot), snapshot.Sequence, "snapshot.sequence must be between 1 and 2^63 - 1");
        }
        if (snapshot.CollectedAt is null)
        {
            throw new ArgumentException("snapshot.collected_at is missing", nameof(snapshot));
        }
        int hostId = checked((int)agent.HostKey);
        var collectedAt = Time(snapshot.CollectedAt);
        var day = DateOnly.FromDateTime(collectedAt);
        // Raw samples older than the retention would be dropped at once: such a late snapshot only advances
        // the sequence (and the host's last seen).
        bool keepSeries = day >= partitions.RawCutoff;
        if (keepSeries)
        {
            await partitions.EnsureDayAsync(day, ct);
        }
        else
        {
            LogPastRetention(logger, agent.AgentId, snapshot.Sequence, collectedAt);
        }
        try
        {
            return await StoreAsync(agent, hostId, snapshot, collectedAt, keepSeries, ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CheckViolation && e.MessageText.StartsWith("no partition", StringComparison.Ordinal))
        {
            // Dropped or never made: the replay makes it again.
            partitions.Forget(day);
            throw;
        }
    }

    private async Task<StoreOutcome> StoreAsync(AgentRegistration agent, int hostId, Snapshot snapshot, DateTime collectedAt, bool keepSeries, CancellationToken ct)
    {
        long sequence = (long)snapshot.Sequence;
        var now = time.GetUtcNow().UtcDateTime;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);

        await using (var lockAgent = new NpgsqlCommand(LockAgentSql, conn, tx) { Parameters = { new NpgsqlParameter<long> { TypedValue = agent.AgentKey } } })
        {
            await lockAgent.PrepareAsync(ct);
            object? last = await lockAgent.ExecuteScalarAsync(ct);
            if (last is not long lastCommitted)
            {
                throw new InvalidOperationException($"agent {agent.AgentId} (key {agent.AgentKey}) is not registered");
            }
            if (sequence <= lastCommitted)
            {
                await tx.RollbackAsync(ct);
                return StoreOutcome.Duplicate;
            }
        }

        var (serviceIds, written) = await ResolveServicesAsync(conn, tx, hostId, snapshot, collectedAt, ct);
        if (keepSeries)
        {
            await CopyServicesAsync(conn, hostId, snapshot, collectedAt, serviceIds, ct);
            await CopyProcessesAsync(conn, hostId, snapshot, collectedAt, serviceIds, ct);
            await CopyCloseWaitAsync(conn, hostId, snapshot, collectedAt, serviceIds, ct);
        }

        await using (var batch = new NpgsqlBatch(conn, tx))
        {
            if (keepSeries)
            {
                batch.BatchCommands.Add(HostSample(hostId, snapshot, collectedAt, serviceIds));
                batch.BatchCommands.Add(Command(TouchRollupSql, P(hostId), P(Minute(collectedAt))));
            }
            var host = snapshot.Host;
            batch.BatchCommands.Add(Command(UpdateHostSql,
                P(now), P(collectedAt), P(host?.Hostname ?? ""), P(host?.Kernel ?? ""), P(host?.BootId ?? ""), P(host?.AgentVersion ?? ""),
                new NpgsqlParameter<byte[]> { TypedValue = snapshot.ToByteArray() }, P(hostId)));
            batch.BatchCommands.Add(Command(UpdateAgentSql, P(sequence), P(now), P(agent.AgentKey)));
            await batch.PrepareAsync(ct);
            await batch.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);

        foreach (var (name, row) in written)
        {
            _services.Set(hostId, name, row);
        }
        return StoreOutcome.Stored;
    }

    /// <summary>Service instance ids for every service name in the snapshot; one upsert for those not known (or whose first/last seen moves).</summary>
    private async Task<(Dictionary<string, int> Ids, List<(string Name, ServiceRow Row)> Written)> ResolveServicesAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, int hostId, Snapshot snapshot, DateTime collectedAt, CancellationToken ct)
    {
        var sources = new Dictionary<string, short>(snapshot.Services.Count, StringComparer.Ordinal);
        foreach (var s in snapshot.Services)
        {
            sources.TryAdd(s.Name, (short)s.Source);
        }
        foreach (var p in snapshot.Processes)
        {
            sources.TryAdd(p.Service, 0);
        }
        var ids = new Dictionary<string, int>(sources.Count, StringComparer.Ordinal);
        var upsert = new List<string>();
        var time = new DateTimeOffset(collectedAt);
        foreach (var (name, source) in sources)
        {
            if (_services.NeedsUpsert(hostId, name, source, time))
            {
                upsert.Add(name);
            }
            else if (_services.TryGet(hostId, name, out var row))
            {
                ids[name] = row.Id;
            }
        }
        var written = new List<(string, ServiceRow)>();
        if (upsert.Count == 0)
        {
            return (ids, written);
        }
        // One order for every writer, so two transactions upserting the same services cannot deadlock.
        upsert.Sort(StringComparer.Ordinal);
        await using var cmd = Command(conn, tx, UpsertServicesSql,
            P(hostId),
            new NpgsqlParameter<string[]> { TypedValue = [.. upsert] },
            new NpgsqlParameter<short[]> { TypedValue = [.. upsert.Select(n => sources[n])] },
            P(collectedAt));
        await cmd.PrepareAsync(ct);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var row = new ServiceRow(reader.GetInt32(0), reader.GetInt16(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4));
            string name = reader.GetString(1);
            ids[name] = row.Id;
            written.Add((name, row));
        }
        return (ids, written);
    }

    private static async Task CopyServicesAsync(NpgsqlConnection conn, int hostId, Snapshot snapshot, DateTime time, Dictionary<string, int> ids, CancellationToken ct)
    {
        if (snapshot.Services.Count == 0)
        {
            return;
        }
        await using var w = await conn.BeginBinaryImportAsync(CopyServices, ct);
        foreach (var s in snapshot.Services)
        {
            await w.StartRowAsync(ct);
            await w.WriteAsync(time, NpgsqlDbType.TimestampTz, ct);
            await w.WriteAsync(ids[s.Name], NpgsqlDbType.Integer, ct);
            await w.WriteAsync(hostId, NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(s.ProcessCount), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(s.UnreadableProcessCount), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(s.OpenFds), NpgsqlDbType.Integer, ct);
            await WriteFdsAsync(w, s.Fds ?? NoFds, ct);
            await w.WriteAsync(s.WorstPid, NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(s.WorstOpenFds), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Limit(s.WorstNofileSoft), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Limit(s.WorstNofileHard), NpgsqlDbType.Integer, ct);
            await w.WriteAsync((float)s.WorstSoftLimitPercent, NpgsqlDbType.Real, ct);
            await WriteTcpAsync(w, s.Tcp ?? NoTcp, ct);
        }
        await w.CompleteAsync(ct);
    }

    private async Task CopyProcessesAsync(NpgsqlConnection conn, int hostId, Snapshot snapshot, DateTime time, Dictionary<string, int> ids, CancellationToken ct)
    {
        var kept = SelectProcesses(snapshot, _topProcesses);
        if (kept.Count == 0)
        {
            return;
        }
        await using var w = await conn.BeginBinaryImportAsync(CopyProcesses, ct);
        foreach (var p in kept)
        {
            var f = p.Fds ?? NoFds;
            await w.StartRowAsync(ct);
            await w.WriteAsync(time, NpgsqlDbType.TimestampTz, ct);
            await w.WriteAsync(Long(p.StartTimeTicks), NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(hostId, NpgsqlDbType.Integer, ct);
            await w.WriteAsync(ids[p.Service], NpgsqlDbType.Integer, ct);
            await w.WriteAsync(p.Pid, NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(p.OpenFds), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Limit(p.NofileSoft), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Limit(p.NofileHard), NpgsqlDbType.Integer, ct);
            await w.WriteAsync((float)SoftLimitPercent(p), NpgsqlDbType.Real, ct);
            await w.WriteAsync(Count(f.RegularFile), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(f.Directory), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(f.Pipe + f.Fifo), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(f.SocketTcp), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(f.SocketUdp), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(f.SocketUnix), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(f.SocketNetlink + f.SocketOther), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(f.Eventpoll + f.Eventfd + f.Timerfd + f.Signalfd + f.Inotify + f.AnonInodeOther), NpgsqlDbType.Integer, ct);
            await w.WriteAsync(Count(f.CharDevice + f.BlockDevice + f.Memfd + f.Other), NpgsqlDbType.Integer, ct);
            await WriteTcpAsync(w, p.Tcp ?? NoTcp, ct);
            await w.WriteAsync(p.Comm, NpgsqlDbType.Text, ct);
        }
        await w.CompleteAsync(ct);
    }

    private static async Task CopyCloseWaitAsync(NpgsqlConnection conn, int hostId, Snapshot snapshot, DateTime time, Dictionary<string, int> ids, CancellationToken ct)
    {
        if (!snapshot.Processes.Any(p => p.CloseWaitRemotes.Count > 0))
        {
            return;
        }
        await using var w = await conn.BeginBinaryImportAsync(CopyCloseWait, ct);
        for (int i = 0; i < snapshot.Processes.Count; i++)
        {
            var p = snapshot.Processes[i];
            for (int j = 0; j < p.CloseWaitRemotes.Count; j++)
            {
                var r = p.CloseWaitRemotes[j];
                if (!IPAddress.TryParse(r.Address, out var address))
                {
                    throw new ArgumentException($"processes[{i}].close_wait_remotes[{j}].address: '{r.Address}' is not an IP address", nameof(snapshot));
                }
                await w.StartRowAsync(ct);
                await w.WriteAsync(time, NpgsqlDbType.TimestampTz, ct);
                await w.WriteAsync(hostId, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(ids[p.Service], NpgsqlDbType.Integer, ct);
                await w.WriteAsync(p.Pid, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(Count(r.Port), NpgsqlDbType.Integer, ct);
                await w.WriteAsync(Count(r.Count), NpgsqlDbType.Integer, ct);
                await w.WriteAsync(address, NpgsqlDbType.Inet, ct);
            }
        }
        await w.CompleteAsync(ct);
    }

    private static async Task WriteFdsAsync(NpgsqlBinaryImporter w, FdCounts f, CancellationToken ct)
    {
        await w.WriteAsync(Count(f.RegularFile), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.Directory), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.Pipe), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.Fifo), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.SocketTcp), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.SocketUdp), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.SocketUnix), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.SocketNetlink), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.SocketOther), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.CharDevice), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.BlockDevice), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.Eventpoll), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.Eventfd), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.Timerfd), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.Signalfd), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.Inotify), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.AnonInodeOther), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.Memfd), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(f.Other), NpgsqlDbType.Integer, ct);
    }

    private static async Task WriteTcpAsync(NpgsqlBinaryImporter w, TcpStates t, CancellationToken ct)
    {
        await w.WriteAsync(Count(t.Established), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(t.SynSent), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(t.SynRecv), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(t.FinWait1), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(t.FinWait2), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(t.TimeWait), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(t.Close), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(t.CloseWait), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(t.LastAck), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(t.Listen), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(t.Closing), NpgsqlDbType.Integer, ct);
        await w.WriteAsync(Count(t.NewSynRecv), NpgsqlDbType.Integer, ct);
    }

    private static NpgsqlBatchCommand HostSample(int hostId, Snapshot snapshot, DateTime time, Dictionary<string, int> ids)
    {
        var sys = snapshot.System ?? NoSystem;
        var unowned = snapshot.UnownedTcp ?? NoTcp;
        var cost = snapshot.AgentCost ?? NoCost;
        int processes = 0, unreadable = 0;
        long openFds = 0, closeWait = 0, established = 0;
        foreach (var s in snapshot.Services)
        {
            processes += Count(s.ProcessCount);
            unreadable += Count(s.UnreadableProcessCount);
            openFds += Long(s.OpenFds);
            closeWait += Long(s.Tcp?.CloseWait ?? 0);
            established += Long(s.Tcp?.Established ?? 0);
        }
        var worst = WorstService(snapshot);
        IPAddress? topAddress = null;
        if (sys.TopEphemeralRemote is { } top && !IPAddress.TryParse(top.Address, out topAddress))
        {
            throw new ArgumentException($"system.top_ephemeral_remote.address: '{top.Address}' is not an IP address", nameof(snapshot));
        }
        var c = new NpgsqlBatchCommand(InsertHostSample);
        var p = c.Parameters;
        p.Add(P(time));
        p.Add(P(hostId));
        p.Add(P(Long(sys.FileHandlesAllocated)));
        p.Add(P(Long(sys.FileHandlesMax)));
        p.Add(P(Long(sys.NrOpen)));
        p.Add(P(Count(sys.EphemeralPortLow)));
        p.Add(P(Count(sys.EphemeralPortHigh)));
        p.Add(P(Long(sys.EphemeralPortsInUse)));
        p.Add(new NpgsqlParameter { Value = (object?)topAddress ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Inet });
        p.Add(new NpgsqlParameter { Value = topAddress is null ? DBNull.Value : Count(sys.TopEphemeralRemote!.Port), NpgsqlDbType = NpgsqlDbType.Integer });
        p.Add(new NpgsqlParameter { Value = topAddress is null ? DBNull.Value : Long(sys.TopEphemeralRemote!.Count), NpgsqlDbType = NpgsqlDbType.Bigint });
        p.Add(P(Long(sys.TcpMaxOrphans)));
        p.Add(P(Long(sys.TcpOrphans)));
        p.Add(P(Long(sys.TcpTimeWait)));
        p.Add(P(Count(sys.TcpFinTimeoutSeconds)));
        p.Add(new NpgsqlParameter<short> { TypedValue = (short)Math.Clamp(sys.TcpTwReuse, short.MinValue, short.MaxValue) });
        p.Add(new NpgsqlParameter<bool> { TypedValue = sys.ConntrackPresent });
        p.Add(P(Long(sys.ConntrackCount)));
        p.Add(P(Long(sys.ConntrackMax)));
        p.Add(P(Long(sys.InotifyMaxUserInstances)));
        p.Add(P(Long(sys.InotifyMaxUserWatches)));
        p.Add(new NpgsqlParameter<long[]> { TypedValue = [.. sys.InotifyByUser.Select(u => (long)u.Uid)] });
        p.Add(new NpgsqlParameter<long[]> { TypedValue = [.. sys.InotifyByUser.Select(u => Long(u.Instances))] });
        p.Add(P(Count(unowned.Established)));
        p.Add(P(Count(unowned.SynSent)));
        p.Add(P(Count(unowned.SynRecv)));
        p.Add(P(Count(unowned.FinWait1)));
        p.Add(P(Count(unowned.FinWait2)));
        p.Add(P(Count(unowned.TimeWait)));
        p.Add(P(Count(unowned.Close)));
        p.Add(P(Count(unowned.CloseWait)));
        p.Add(P(Count(unowned.LastAck)));
        p.Add(P(Count(unowned.Listen)));
        p.Add(P(Count(unowned.Closing)));
        p.Add(P(Count(unowned.NewSynRecv)));
        p.Add(P(processes));
        p.Add(P(unreadable));
        p.Add(P(openFds));
        p.Add(P(closeWait));
        p.Add(P(established));
        p.Add(new NpgsqlParameter { Value = worst is null ? DBNull.Value : ids[worst.Name], NpgsqlDbType = NpgsqlDbType.Integer });
        p.Add(new NpgsqlParameter<float> { TypedValue = (float)(worst?.WorstSoftLimitPercent ?? 0) });
        p.Add(P(worst is null ? 0 : HeadroomFds(worst, sys)));
        p.Add(P(snapshot.NetworkNamespaces.Count));
        p.Add(P(Microseconds(snapshot.CollectionDuration)));
        p.Add(P(Microseconds(cost.Cpu)));
        p.Add(P(Microseconds(cost.Wall)));
        p.Add(P(Long(cost.ResidentBytes)));
        p.Add(P(Count(cost.ProcessesSeen)));
        p.Add(P(Count(cost.ProcessesUnreadable)));
        p.Add(P(Count(cost.ProcessesVanished)));
        p.Add(P(Count(cost.MalformedLines)));
        p.Add(P(Count(cost.ProcessesRescanned)));
        p.Add(P(Long(cost.FdsRead)));
        return c;
    }

    private static NpgsqlParameter<int> P(int v) => new() { TypedValue = v };

    private static NpgsqlParameter<long> P(long v) => new() { TypedValue = v };

    private static NpgsqlParameter<string> P(string v) => new() { TypedValue = v };

    private static NpgsqlParameter<DateTime> P(DateTime v) => new() { TypedValue = v, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var c = new NpgsqlBatchCommand(sql);
        c.Parameters.AddRange(parameters);
        return c;
    }

    private static NpgsqlCommand Command(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, params NpgsqlParameter[] parameters)
    {
        var c = new NpgsqlCommand(sql, conn, tx);
        c.Parameters.AddRange(parameters);
        return c;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot {Sequence} of agent {AgentId} was collected at {CollectedAt:O}, past the raw retention: only its sequence is recorded")]
    private static partial void LogPastRetention(ILogger logger, string agentId, ulong sequence, DateTime collectedAt);
}
