using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MudBlazor.Services;

namespace Fleet.Web;

public static class WebServiceCollectionExtensions
{
    /// <summary>What the pages need besides the data ports (<see cref="Data.IDashboardData"/>, <see cref="Data.ILiveFeed"/>,
    /// <see cref="Data.IProjectionData"/>, <see cref="Data.IAlertRules"/>, <see cref="Data.IAlertData"/>, <see cref="Data.INotificationChannels"/>,
    /// and for sign-in and roles <see cref="Data.ISignInChoices"/>, <see cref="Data.IUserAdmin"/>, <see cref="Data.IApiTokens"/>,
    /// <see cref="Data.IEnrollmentAdmin"/>), which the host provides with its authentication and the role policies
    /// (<see cref="Data.FleetPolicies"/>).</summary>
    public static IServiceCollection AddFleetWeb(this IServiceCollection services)
    {
        services.AddMudServices();
        // The signed-in user reaches every component (AuthorizeRouteView, AuthorizeView, the handlers that check a
        // policy before changing anything) as a cascading Task<AuthenticationState>.
        services.AddCascadingAuthenticationState();
        // The pages' clock (host status, relative times, throttles); a host that registered its own keeps it.
        services.TryAddSingleton(TimeProvider.System);
        // Who makes a change, for the audit log: the host registers the signed-in user's name; without one, anonymous.
        services.TryAddScoped<Data.IActorAccessor, Data.AnonymousActor>();
        return services;
    }
}
