using Fleet.Server.Dashboard;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Fleet.Server.Projection;

/// <summary>
/// The projections table: written by the projection job (every row of a pass upserted, rows of series the pass no
/// longer has deleted, in one transaction, so a reader sees one pass or the next), read by the pages
/// (<see cref="IProjectionData"/>) and the HTTP API. A host name is resolved as the dashboard does: the host of that
/// name that sent a snapshot most recently.
/// </summary>
public sealed class ProjectionStore(NpgsqlDataSource dataSource, IDbContextFactory<FleetDbContext> contexts) : IProjectionData
{
    /// <summary>At most this many rows from <see cref="LeaksAsync"/>.</summary>
    public const int MaxLeaks = 1000;

    private const string Select = $"""
        SELECT h.hostname, sv.name, {ProjectionRows.Columns}
        FROM projections p
        JOIN services sv ON sv.id = p.service_id
        JOIN hosts h ON h.id = p.host_id
        """;

    private const string Order = " ORDER BY h.hostname, sv.name, p.pid IS NOT NULL, p.command, p.pid";

    private const string HostIdSql = "SELECT id FROM hosts WHERE hostname = $1 AND latest_snapshot IS NOT NULL ORDER BY last_seen DESC LIMIT 1";

    public async Task<IReadOnlyList<ProjectionView>> HostAsync(string hostName, CancellationToken ct) =>
        await FindHostAsync(hostName, ct) ?? [];

    public async Task<IReadOnlyList<ProjectionView>> ServiceAsync(string serviceName, CancellationToken ct)
    {
        if (!PostgresDashboardData.IsName(serviceName))
        {
            return [];
        }
        return await ReadAsync(Select + " WHERE sv.name = $1" + Order, ct, new NpgsqlParameter<string> { TypedValue = serviceName });
    }

    public async Task<IReadOnlyList<ProjectionView>> LeaksAsync(int limit, CancellationToken ct)
    {
        if (limit <= 0)
        {
            return [];
        }
        return await ReadAsync(
            Select + $" WHERE p.series_key = '' AND p.verdict = {(int)LeakVerdict.Leak} ORDER BY p.exhausted_at NULLS LAST, p.slope_per_hour DESC, h.hostname, sv.name LIMIT $1",
            ct,
            new NpgsqlParameter<int> { TypedValue = Math.Min(limit, MaxLeaks) });
    }

    /// <summary>The host's projections, or null when no host of that name has sent a snapshot.</summary>
    public async Task<IReadOnlyList<ProjectionView>?> FindHostAsync(string hostName, CancellationToken ct)
    {
        if (!PostgresDashboardData.IsName(hostName))
        {
            return null;
        }
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        int? hostId;
        await using (var cmd = new NpgsqlCommand(HostIdSql, conn) { Parameters = { new NpgsqlParameter<string> { TypedValue = hostName } } })
        {
            hostId = await cmd.ExecuteScalarAsync(ct) is int id ? id : null;
        }
        if (hostId is null)
        {
            return null;
        }
        return await ReadAsync(conn, Select + " WHERE p.host_id = $1" + Order, ct, new NpgsqlParameter<int> { TypedValue = hostId.Value });
    }

    /// <summary>Projections filtered by host and/or service (either may be null); null when a host is named and unknown.</summary>
    public async Task<IReadOnlyList<ProjectionView>?> QueryAsync(string? hostName, string? serviceName, CancellationToken ct)
    {
        if (hostName is not null)
        {
            var host = await FindHostAsync(hostName, ct);
            return host is null ? null : serviceName is null ? host : [.. host.Where(p => p.Service == serviceName)];
        }
        if (serviceName is not null)
        {
            return await ServiceAsync(serviceName, ct);
        }
        return await ReadAsync(Select + Order, ct);
    }

    /// <summary>Whether any host has a service of that name.</summary>
    public async Task<bool> ServiceExistsAsync(string serviceName, CancellationToken ct)
    {
        if (!PostgresDashboardData.IsName(serviceName))
        {
            return false;
        }
        await using var cmd = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM services WHERE name = $1)");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = serviceName });
        return await cmd.ExecuteScalarAsync(ct) is true;
    }

    /// <summary>Replaces the table's content with one pass's projections (upserts by (service, series key); deletes the rest).</summary>
    internal async Task<(int Written, int Deleted)> SaveAsync(IReadOnlyList<SeriesProjection> projections, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var existing = await db.Projections.ToDictionaryAsync(p => (p.ServiceId, p.SeriesKey), ct);
        foreach (var p in projections)
        {
            if (!existing.Remove((p.ServiceId, p.SeriesKey), out var row))
            {
                row = new ProjectionEntity { SeriesKey = p.SeriesKey, Reason = "" };
                db.Projections.Add(row);
            }
            Fill(row, p);
        }
        db.Projections.RemoveRange(existing.Values);
        await db.SaveChangesAsync(ct);
        return (projections.Count, existing.Count);
    }

    /// <summary>Sets the row's values (EF updates only the columns that changed: a kept projection costs no UPDATE).</summary>
    private static void Fill(ProjectionEntity row, SeriesProjection p)
    {
        var r = p.Result;
        row.HostId = p.HostId;
        row.ServiceId = p.ServiceId;
        row.Pid = p.Pid;
        row.Command = p.Command;
        row.Verdict = (short)r.Verdict;
        row.SlopePerHour = r.SlopePerHour;
        row.CurrentFds = r.CurrentLevel;
        row.SoftLimit = p.SoftLimit;
        row.HardLimit = p.HardLimit;
        row.TimeToSoftLimit = r.TimeToSoftLimit;
        row.TimeToHardLimit = r.TimeToHardLimit;
        row.ExhaustedAt = r.TimeToSoftLimit is { } t ? p.ComputedAt + t : null;
        row.Quality = r.Quality;
        row.RunStart = r.RunStart;
        if (!row.Restarts.SequenceEqual(r.Restarts))
        {
            row.Restarts = [.. r.Restarts];
        }
        row.RestartCadence = r.RestartCadence;
        row.Reason = p.SocketLeak is { } s ? $"{r.Reason} {SocketLeaks.Sentence(s)}" : r.Reason;
        row.SocketRemote = p.SocketLeak?.Remote;
        row.SocketSlopePerHour = p.SocketLeak?.SlopePerHour;
        row.SocketCloseWaitNow = p.SocketLeak?.CloseWaitNow;
        row.SocketShareOfFdRise = p.SocketLeak?.ShareOfFdRise;
        row.ComputedAt = p.ComputedAt;
        row.PassAt = p.ProjectedAt;
    }

    private async Task<List<ProjectionView>> ReadAsync(string sql, CancellationToken ct, params NpgsqlParameter[] parameters)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await ReadAsync(conn, sql, ct, parameters);
    }

    private static async Task<List<ProjectionView>> ReadAsync(NpgsqlConnection conn, string sql, CancellationToken ct, params NpgsqlParameter[] parameters)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddRange(parameters);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var result = new List<ProjectionView>();
        while (await reader.ReadAsync(ct))
        {
            result.Add(ProjectionRows.Read(reader, 2, reader.GetString(0), reader.GetString(1))!);
        }
        return result;
    }
}
