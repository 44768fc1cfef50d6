using Fleet.Server.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Server.Tests.Storage;

public sealed class MigrationTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly string[] DailyTables =
        ["service_samples", "process_samples", "close_wait_samples", "host_samples", "service_rollup_1m", "host_rollup_1m"];

    private static readonly string[] MonthlyTables = ["service_rollup_1h", "host_rollup_1h"];

    [Fact]
    public async Task Migrate_OnEmptyDatabase_CreatesTimeSeriesTablesPartitionedByRangeOfTime()
    {
        var rows = await harness.RowsAsync("""
            SELECT c.relname, p.partstrat, a.attname
            FROM pg_partitioned_table p
            JOIN pg_class c ON c.oid = p.partrelid
            JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
            WHERE c.relkind = 'p' ORDER BY c.relname
            """);

        var expected = DailyTables.Concat(MonthlyTables).Order(StringComparer.Ordinal)
            .Select(t => new object?[] { t, 'r', t.Contains("rollup", StringComparison.Ordinal) ? "bucket" : "time" });
        Assert.Equal(expected, rows);
    }

    [Fact]
    public async Task Migrate_OnEmptyDatabase_MakesPartitionsForTodayAndTheDaysAhead()
    {
        var partitions = (await harness.RowsAsync("""
            SELECT child.relname, pg_get_expr(child.relpartbound, child.oid)
            FROM pg_inherits i JOIN pg_class child ON child.oid = i.inhrelid JOIN pg_class parent ON parent.oid = i.inhparent
            WHERE parent.relkind = 'p'
            """)).ToDictionary(r => (string)r[0]!, r => (string)r[1]!);

        // Today is 2030-03-15 by the harness clock; 3 days ahead by default.
        foreach (string table in DailyTables)
        {
            foreach (string day in new[] { "20300315", "20300316", "20300317", "20300318" })
            {
                Assert.Contains($"{table}_p{day}", partitions.Keys);
            }
            Assert.DoesNotContain($"{table}_p20300319", partitions.Keys);
        }
        foreach (string table in MonthlyTables)
        {
            Assert.Contains($"{table}_p203003", partitions.Keys);
        }
        await using var conn = await harness.DataSource.OpenConnectionAsync();
        await using (var utc = new Npgsql.NpgsqlCommand("SET TimeZone = 'UTC'", conn))
        {
            await utc.ExecuteNonQueryAsync();
        }
        await using var cmd = new Npgsql.NpgsqlCommand("""
            SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.relname = 'service_samples_p20300315'
            """, conn);
        Assert.Equal("FOR VALUES FROM ('2030-03-15 00:00:00+00') TO ('2030-03-16 00:00:00+00')", (string?)await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Migrate_Again_AppliesNothingAndKeepsData()
    {
        await harness.ExecuteAsync("INSERT INTO settings (key, value, updated_at) VALUES ('migration-test', '{\"kept\": true}', now())");

        await harness.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None).WaitAsync(StorageHarness.Timeout);

        // Every checked-in migration applied once (their number grows with the schema).
        await using var db = await harness.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<FleetDbContext>>().CreateDbContextAsync();
        long migrations = Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.GetMigrations(db.Database).Count();
        Assert.True(migrations >= 2);
        Assert.Equal(migrations, await harness.ScalarAsync<long>("SELECT count(*) FROM \"__EFMigrationsHistory\""));
        Assert.Equal("{\"kept\": true}", await harness.ScalarAsync<string>("SELECT value::text FROM settings WHERE key = 'migration-test'"));
    }

    [Fact]
    public async Task Migrate_OnEmptyDatabase_SeedsTheAgentSettings()
    {
        string json = await harness.ScalarAsync<string>("SELECT value::text FROM settings WHERE key = 'agent'");

        Assert.Equal("{\"groupingRules\": [], \"intervalSeconds\": 10}", json);
    }
}
