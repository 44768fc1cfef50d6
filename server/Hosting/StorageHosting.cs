using Fleet.Server.Storage;

namespace Fleet.Server.Hosting;

/// <summary>Applies storage's schema (EF Core migrations); storage registers it.</summary>
public delegate Task MigrateDatabase(CancellationToken ct);

/// <summary>Options of the database at start-up (configuration section <c>Fleet:Database</c>).</summary>
public sealed class DatabaseStartupOptions
{
    public const string Section = "Fleet:Database";

    /// <summary>Apply migrations when the server starts (default true).</summary>
    public bool MigrateOnStart { get; set; } = true;
}

/// <summary>
/// Storage's registration, in one place for the web host and the CLI: <c>IIngestStore</c>, <c>IFleetQueries</c>,
/// storage's hosted services and <see cref="MigrateDatabase"/> (from storage's <c>DatabaseMigrator</c>).
/// </summary>
public static class StorageHosting
{
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddFleetStorage(configuration);
        services.AddSingleton<MigrateDatabase>(sp => sp.GetRequiredService<DatabaseMigrator>().MigrateAsync);
        return services;
    }
}

/// <summary>Migrates the database before the server (and storage's own services) start.</summary>
internal sealed partial class DatabaseMigrationService(
    IServiceProvider services,
    Microsoft.Extensions.Options.IOptions<DatabaseStartupOptions> options,
    ILogger<DatabaseMigrationService> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.MigrateOnStart || services.GetService<MigrateDatabase>() is not { } migrate)
        {
            return;
        }
        await migrate(cancellationToken).ConfigureAwait(false);
        LogMigrated(logger);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is up to date")]
    private static partial void LogMigrated(ILogger logger);
}
