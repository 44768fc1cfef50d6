using Fleet.Server.Dashboard;
using Fleet.Server.Ingest;
using Fleet.Web.Compare;
using Fleet.Web.Data;
using Npgsql;
using NpgsqlTypes;

namespace Fleet.Server.Compare;

/// <summary>
/// The fleet's drift over PostgreSQL: each host name's latest snapshot (hosts.latest_snapshot of the machine seen
/// last under that name), mapped as the host page maps it (<see cref="HostDetails"/>), then <see cref="Drift.Of"/>.
/// Hosts not seen within <see cref="Drift.MaxSnapshotAge"/> are named as left out and their snapshots are not read.
/// </summary>
public sealed class PostgresDriftData(NpgsqlDataSource dataSource, TimeProvider time, AgentConfigPublisher? agentConfig = null) : IDriftData
{
    private const string HostsSql = """
        SELECT DISTINCT ON (hostname) id, hostname, machine_id, kernel, agent_version, last_seen,
            CASE WHEN last_seen >= $1 THEN latest_snapshot END,
            (SELECT value::text FROM settings WHERE key = 'agent')
        FROM hosts WHERE latest_snapshot IS NOT NULL
        ORDER BY hostname, last_seen DESC
        """;

    public async Task<DriftView> DriftAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var details = new List<HostDetail>();
        var leftOut = new List<string>();
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
        await using (var cmd = new NpgsqlCommand(HostsSql, conn)
        {
            Parameters = { new NpgsqlParameter<DateTimeOffset> { TypedValue = now - Drift.MaxSnapshotAge, NpgsqlDbType = NpgsqlDbType.TimestampTz } },
        })
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                string name = reader.GetString(1);
                if (reader.IsDBNull(6))
                {
                    leftOut.Add(name);
                    continue;
                }
                details.Add(HostDetails.Map(HostDetails.StoredHost.Read(reader, agentConfig), null));
            }
        }
        var view = Drift.Of(details, now);
        return view with { LeftOut = [.. view.LeftOut.Concat(leftOut).Order(StringComparer.Ordinal)] };
    }
}
