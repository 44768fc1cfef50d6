using Fleet.Server.Api;
using Fleet.Server.Ingest;
using Fleet.Server.Storage.Partitions;
using Fleet.Server.Storage.Queries;
using Fleet.Server.Storage.Rollups;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fleet.Server.Storage;

public static class StorageServiceCollectionExtensions
{
    public const string ConnectionStringName = "Fleet";

    /// <summary>
    /// Registers storage: the NpgsqlDataSource (from <c>ConnectionStrings:Fleet</c>, read when first needed so the
    /// host may fill it in after start-up work such as a private cluster), a pooled FleetDbContext factory, the
    /// ports IIngestStore and IFleetQueries, the DatabaseMigrator, and the PartitionMaintenance and RollupService
    /// background jobs. Options from <c>Fleet:Storage</c>, validated at start.
    /// </summary>
    public static IServiceCollection AddFleetStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, ValidateStorageOptions>());
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton(_ =>
        {
            string connectionString = configuration.GetConnectionString(ConnectionStringName)
                ?? throw new InvalidOperationException(
                    $"ConnectionStrings:{ConnectionStringName} is not set: configure the PostgreSQL connection string "
                    + "(for example Host=db;Database=fleet;Username=fleet;Password=...).");
            return CreateDataSource(connectionString);
        });
        services.AddPooledDbContextFactory<FleetDbContext>((sp, o) => o.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>()));

        services.TryAddSingleton<PartitionManager>();
        services.TryAddSingleton<DatabaseMigrator>();
        services.TryAddSingleton<PostgresIngestStore>();
        services.TryAddSingleton<IIngestStore>(sp => sp.GetRequiredService<PostgresIngestStore>());
        services.TryAddSingleton<IEnrollmentTokenCatalog>(sp => sp.GetRequiredService<PostgresIngestStore>());
        services.TryAddSingleton<IFleetQueries, PostgresFleetQueries>();
        services.TryAddSingleton<RollupService>();
        services.AddHostedService<PartitionMaintenance>();
        services.AddHostedService(sp => sp.GetRequiredService<RollupService>());
        return services;
    }

    /// <summary>The data source storage uses: the few hot commands stay prepared on each pooled connection.</summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 50;
        }
        builder.ConnectionStringBuilder.ApplicationName ??= "fleet-server";
        return builder.Build();
    }
}
