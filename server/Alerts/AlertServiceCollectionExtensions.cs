using Fleet.Server.Ingest;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Alerts;

public static class AlertServiceCollectionExtensions
{
    /// <summary>
    /// Alert rules (<see cref="IAlertRules"/>), alerts (<see cref="IAlertData"/>), silences (<see cref="IAlertSilences"/>) and their evaluation: the evaluator is
    /// registered here as an <see cref="IStoredSnapshotObserver"/> (ingest tells it of each committed snapshot) and as a
    /// hosted service (its loop and periodic tick). Uses storage's FleetDbContext factory; the
    /// <see cref="IAlertTransitionSink"/> and <see cref="IProjectionData"/> are taken when registered, in any order
    /// (without a sink, transitions are only stored; without projections, time-to-exhaustion rules never match).
    /// <see cref="IActorAccessor"/> defaults to <see cref="AnonymousActor"/>. Options: <c>Fleet:Alerts</c>.
    /// </summary>
    public static IServiceCollection AddAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<AlertOptions>().Bind(configuration.GetSection(AlertOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AlertOptions>, AlertOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IActorAccessor, AnonymousActor>();
        services.TryAddSingleton<AlertStateGate>();
        services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<AlertRuleStore>(sp, Sink(sp)));
        services.TryAddSingleton<IAlertRules>(sp => sp.GetRequiredService<AlertRuleStore>());
        services.TryAddSingleton<IAlertData, PostgresAlertData>();
        services.TryAddSingleton<IAlertSilences>(sp => ActivatorUtilities.CreateInstance<AlertSilenceStore>(sp, Sink(sp)));
        services.TryAddSingleton(sp => new AlertEvaluator(
            sp.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Storage.FleetDbContext>>(),
            Sink(sp),
            sp.GetService<IProjectionData>(),
            sp.GetRequiredService<AlertStateGate>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<AlertOptions>>(),
            sp.GetRequiredService<ILogger<AlertEvaluator>>()));
        services.TryAddSingleton<AlertInbox>();
        // Ingest tells every registered observer of each committed snapshot (the live bus is another).
        services.AddSingleton<IStoredSnapshotObserver>(sp => sp.GetRequiredService<AlertInbox>());
        services.AddHostedService<AlertEvaluationService>();
        return services;
    }

    /// <summary>The registered sink, whenever it was registered, or none.</summary>
    private static IAlertTransitionSink Sink(IServiceProvider sp) => sp.GetService<IAlertTransitionSink>() ?? NoAlertTransitionSink.Instance;
}
