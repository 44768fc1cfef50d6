using Fleet.Server.Alerts;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Notifications;

public static class NotificationServiceCollectionExtensions
{
    /// <summary>
    /// Notifications: <see cref="INotificationChannels"/> (channels and the delivery log, for the UI and the API),
    /// <see cref="IAlertTransitionSink"/> (the evaluator's outbox), the <see cref="NotificationDispatcher"/> background
    /// service and its HTTP client. Options from <c>Fleet:Notifications</c> and <c>Fleet:PublicUrl</c>, validated at
    /// start. Needs storage's FleetDbContext factory (AddStorage).
    /// </summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<NotificationOptions>()
            .Bind(configuration.GetSection(NotificationOptions.Section))
            .Configure(o => o.PublicUrl = NotificationOptions.ResolvePublicUrl(configuration))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NotificationOptions>, ValidateNotificationOptions>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IActorAccessor, AnonymousActor>();

        services.TryAddSingleton(sp => new NotificationPayloads(sp.GetRequiredService<IOptions<NotificationOptions>>().Value.PublicBase));
        services.TryAddSingleton<INotificationChannels, PostgresNotificationChannels>();
        services.TryAddSingleton<IAlertTransitionSink, NotificationOutbox>();

        services.AddHttpClient(NotificationDispatcher.HttpClientName, (sp, client) =>
            {
                client.Timeout = sp.GetRequiredService<IOptions<NotificationOptions>>().Value.RequestTimeout;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("Fleet-Notifier/1.0");
            })
            // A redirect is answered as a failure (3xx is not retried): a POST is not silently turned into a GET elsewhere.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.TryAddSingleton<NotificationDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<NotificationDispatcher>());
        return services;
    }
}
