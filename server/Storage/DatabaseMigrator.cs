using Fleet.Server.Storage.Partitions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Fleet.Server.Storage;

/// <summary>
/// Brings the database to the checked-in migrations and makes the time-series partitions ahead; the host
/// calls it once at start-up, before it serves (<c>await migrator.MigrateAsync(ct)</c>).
/// </summary>
public sealed partial class DatabaseMigrator(IDbContextFactory<FleetDbContext> contexts, PartitionManager partitions, ILogger<DatabaseMigrator> logger)
{
    public async Task MigrateAsync(CancellationToken ct)
    {
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
            if (pending.Count > 0)
            {
                LogApplying(logger, pending.Count, pending);
            }
            // EF takes a database lock while migrating: two servers starting at once do not both apply.
            await db.Database.MigrateAsync(ct);
        }
        await partitions.MaintainAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying {Count} database migration(s): {Migrations}")]
    private static partial void LogApplying(ILogger logger, int count, IEnumerable<string> migrations);
}
