using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Fleet.Web;

public static class WebServiceCollectionExtensions
{
    /// <summary>What the pages need besides the data ports (<see cref="Data.IDashboardData"/>, <see cref="Data.ILiveFeed"/>), which the host provides.</summary>
    public static IServiceCollection AddFleetWeb(this IServiceCollection services)
    {
        services.AddMudServices();
        return services;
    }
}
