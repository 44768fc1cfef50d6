using Fleet.Server.LocalDatabase;
using Npgsql;

namespace Fleet.Server.Tests.LocalDatabase;

public class LocalPostgresTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Start_InEmptyFolder_CreatesClusterThatKeepsDataAcrossRestart()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"fleet-localpg-{Guid.NewGuid():N}");
        try
        {
            await using (var pg = new LocalPostgres(new LocalPostgresOptions { DataDirectory = dir }))
            {
                await pg.StartAsync().WaitAsync(Timeout);
                Assert.True(File.Exists(Path.Combine(dir, "PG_VERSION")));
                await Execute(pg.ConnectionString(), "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)");
                await pg.StopAsync().WaitAsync(Timeout);
                Assert.False(pg.IsRunning);
            }

            await using var again = new LocalPostgres(new LocalPostgresOptions { DataDirectory = dir });
            await again.StartAsync().WaitAsync(Timeout);
            await using var conn = new NpgsqlConnection(again.ConnectionString());
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT v FROM kept", conn);
            Assert.Equal(42, (int)(await cmd.ExecuteScalarAsync())!);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Create_WithMissingBinaries_SaysWhatToInstall()
    {
        var e = Assert.Throws<LocalPostgresException>(() =>
            new LocalPostgres(new LocalPostgresOptions { DataDirectory = "/tmp/x", BinDirectory = null }, null, binRoot: "/nonexistent"));

        Assert.Contains("apt-get install postgresql", e.Message, StringComparison.Ordinal);
    }

    private static async Task Execute(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
