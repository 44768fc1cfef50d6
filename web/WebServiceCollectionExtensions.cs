using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MudBlazor.Services;

namespace Fleet.Web;

public static class WebServiceCollectionExtensions
{
    /// <summary>What the pages need besides the data ports (<see cref="Data.IDashboardData"/>, <see cref="Data.ILiveFeed"/>,
    /// <see cref="Data.IProjectionData"/>, <see cref="Data.IAlertRules"/>, <see cref="Data.IAlertData"/>, <see cref="Data.INotificationChannels"/>), which the host provides.</summary>
    public static IServiceCollection AddFleetWeb(this IServiceCollection services)
    {
        services.AddMudServices();
        // The pages' clock (host status, relative times, throttles); a host that registered its own keeps it.
        services.TryAddSingleton(TimeProvider.System);
        // Who makes a change, for the audit log: until sign-in exists, the anonymous local user.
        services.TryAddScoped<Data.IActorAccessor, Data.AnonymousActor>();
        return services;
    }
}
