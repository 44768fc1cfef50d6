using Fleet.Web.Data;
using Npgsql;

namespace Fleet.Server.Projection;

/// <summary>How a projections row (alias <c>p</c>) is read into a <see cref="ProjectionView"/>: the columns in order, and the mapping.</summary>
internal static class ProjectionRows
{
    /// <summary>The columns <see cref="Read"/> expects, in order (host and service names come from the caller's join).</summary>
    public const string Columns = """
        p.pid, p.command, p.verdict, p.slope_per_hour, p.current_fds, p.soft_limit, p.hard_limit, p.time_to_soft_limit,
        p.time_to_hard_limit, p.quality, p.run_start, p.restarts, p.restart_cadence, p.reason, p.socket_remote,
        p.socket_slope_per_hour, p.socket_close_wait_now, p.socket_share_of_fd_rise, p.computed_at
        """;

    public const int ColumnCount = 19;

    /// <summary>Reads the <see cref="Columns"/> starting at <paramref name="at"/>; null when the row has none (a left join without a projection).</summary>
    public static ProjectionView? Read(NpgsqlDataReader reader, int at, string host, string service)
    {
        if (reader.IsDBNull(at + 2))
        {
            return null;
        }
        SocketLeak? socket = reader.IsDBNull(at + 14) ? null : new SocketLeak(
            reader.GetString(at + 14),
            reader.GetDouble(at + 15),
            (ulong)Math.Max(0, reader.GetInt64(at + 16)),
            reader.GetDouble(at + 17));
        return new ProjectionView(
            host,
            service,
            reader.IsDBNull(at) ? null : reader.GetInt32(at),
            reader.IsDBNull(at + 1) ? null : reader.GetString(at + 1),
            (LeakVerdict)reader.GetInt16(at + 2),
            reader.GetDouble(at + 3),
            reader.GetDouble(at + 4),
            (ulong)Math.Max(0, reader.GetInt64(at + 5)),
            (ulong)Math.Max(0, reader.GetInt64(at + 6)),
            reader.IsDBNull(at + 7) ? null : reader.GetFieldValue<TimeSpan>(at + 7),
            reader.IsDBNull(at + 8) ? null : reader.GetFieldValue<TimeSpan>(at + 8),
            reader.GetDouble(at + 9),
            reader.IsDBNull(at + 10) ? null : reader.GetFieldValue<DateTimeOffset>(at + 10),
            reader.GetFieldValue<DateTimeOffset[]>(at + 11),
            reader.IsDBNull(at + 12) ? null : reader.GetFieldValue<TimeSpan>(at + 12),
            reader.GetString(at + 13),
            socket,
            reader.GetFieldValue<DateTimeOffset>(at + 18));
    }
}
