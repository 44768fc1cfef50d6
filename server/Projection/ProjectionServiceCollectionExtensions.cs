using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Projection;

public static class ProjectionServiceCollectionExtensions
{
    /// <summary>
    /// The projection job (a hosted service; settings from <c>Fleet:Projection</c>: Interval, default 1 minute;
    /// Lookback, default 24 hours; validated at start) and the projections it stores: <see cref="ProjectionStore"/>,
    /// also as <see cref="IProjectionData"/>. Needs storage (NpgsqlDataSource, the FleetDbContext factory) and a TimeProvider.
    /// </summary>
    public static IServiceCollection AddProjections(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ProjectionJobOptions>().Bind(configuration.GetSection(ProjectionJobOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProjectionJobOptions>, ValidateProjectionJobOptions>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ProjectionStore>();
        services.TryAddSingleton<IProjectionData>(sp => sp.GetRequiredService<ProjectionStore>());
        services.TryAddSingleton<ProjectionJob>();
        services.AddHostedService(sp => sp.GetRequiredService<ProjectionJob>());
        return services;
    }
}
