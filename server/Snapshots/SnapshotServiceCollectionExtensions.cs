using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Snapshots;

public static class SnapshotServiceCollectionExtensions
{
    public const string PublicUrlKey = "Fleet:PublicUrl";

    /// <summary>
    /// Incident snapshots: <see cref="IIncidentSnapshots"/> as <see cref="PostgresIncidentSnapshots"/> (needs storage,
    /// the dashboard's <see cref="IDashboardData"/> and the alerts' <see cref="IAlertData"/>; <see cref="IActorAccessor"/>
    /// defaults to <see cref="AnonymousActor"/>). Options: <c>Fleet:Snapshots</c>; archives name this server by
    /// <c>Fleet:PublicUrl</c>, else the machine name.
    /// </summary>
    public static IServiceCollection AddSnapshots(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<SnapshotOptions>()
            .Configure(o => o.ServerName = configuration[PublicUrlKey] is { Length: > 0 } url ? url : Environment.MachineName)
            .Bind(configuration.GetSection(SnapshotOptions.Section))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SnapshotOptions>, SnapshotOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IActorAccessor, AnonymousActor>();
        services.TryAddSingleton<IIncidentSnapshots, PostgresIncidentSnapshots>();
        return services;
    }
}
