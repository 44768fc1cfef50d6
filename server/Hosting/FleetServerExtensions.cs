using Fleet.Server.Access;
using Fleet.Server.Alerts;
using Fleet.Server.Api;
using Fleet.Server.Compare;
using Fleet.Server.Dashboard;
using Fleet.Server.Enrollment;
using Fleet.Server.Ingest;
using Fleet.Server.LocalAgent;
using Fleet.Server.Live;
using Fleet.Server.Notifications;
using Fleet.Server.Projection;
using Fleet.Server.Snapshots;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Fleet.Server.Hosting;

/// <summary>Wires the server's parts; each capability adds its own Add*/Map* pair here.</summary>
public static partial class FleetServerExtensions
{
    public const string ReadyTag = "ready";

    public static WebApplicationBuilder AddFleetServer(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // First: with no database configured it sets the connection string that storage reads.
        bool oneCommandMode = builder.AddLocalDatabase();
        var services = builder.Services;
        var configuration = builder.Configuration;
        builder.AddFleetEndpoints(oneCommandMode);
        services.AddOptions<DatabaseStartupOptions>().Bind(configuration.GetSection(DatabaseStartupOptions.Section));
        // Migrations run when the host is starting: after the local database started, before storage's services.
        services.AddHostedService<DatabaseMigrationService>();
        services.AddStorage(configuration);
        services.AddAccess(configuration);
        services.AddIngest(configuration);
        services.AddEnrollment(configuration);
        services.AddFleetApi();
        services.AddLive();
        services.AddDashboard();
        services.AddProjections(configuration);
        services.AddAlerts(configuration);
        services.AddNotifications(configuration);
        services.AddCompare(configuration);
        services.AddSnapshots(configuration);
        builder.AddFleetUi();
        services.AddLocalAgent(configuration, oneCommandMode);
        return builder;
    }

    public static IServiceCollection AddFleetApi(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag]);
        return services;
    }

    public static WebApplication MapFleetServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Security headers, authentication, authorization and sign-in rate limits, before UseAntiforgery (MapFleetUi).
        app.UseTrustedProxies();
        app.UseAccess();
        // Liveness: the process serves requests. Readiness: the database answers too.
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) }).AllowAnonymous();
        app.MapAccess();
        app.MapFleetApi();
        app.MapProjectionApi();
        app.MapAlertApi();
        app.MapIngest();
        app.MapEnrollmentApi();
        app.MapLive();
        app.MapNotificationApi();
        app.MapCompareApi();
        app.MapSnapshotApi();
        app.MapFleetUi();

        var endpoints = app.Services.GetRequiredService<FleetEndpoints>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Fleet.Server");
        app.Lifetime.ApplicationStarted.Register(() =>
            LogListening(logger, endpoints.HttpAddress, endpoints.GrpcAddress));
        return app;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fleet is up: the dashboard is at {HttpAddress} (API: {HttpAddress}api/hosts, live hub: {HttpAddress}hubs/fleet), agents stream to {GrpcAddress}")]
    private static partial void LogListening(ILogger logger, Uri? httpAddress, Uri? grpcAddress);
}
