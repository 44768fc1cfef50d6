using System.Globalization;
using Npgsql;

namespace Fleet.Server.Tests.Infrastructure;

/// <summary>What tests read straight from a database: one number, or rows; parameters are positional ($1, $2, ...).</summary>
internal static class SqlQueries
{
    public static async Task<long> ScalarAsync(string connectionString, string sql, params object[] parameters)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = Command(conn, sql, parameters);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public static async Task<List<T>> RowsAsync<T>(string connectionString, string sql, Func<NpgsqlDataReader, T> read, params object[] parameters)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = Command(conn, sql, parameters);
        var rows = new List<T>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }
        return rows;
    }

    private static NpgsqlCommand Command(NpgsqlConnection conn, string sql, object[] parameters)
    {
        var cmd = new NpgsqlCommand(sql, conn);
        foreach (object p in parameters)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = p });
        }
        return cmd;
    }
}
