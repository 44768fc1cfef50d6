using Fleet.Web.Data;

namespace Fleet.Server.Dashboard;

public static class DashboardServiceCollectionExtensions
{
    /// <summary>The pages' data port over storage: <see cref="IDashboardData"/> as <see cref="PostgresDashboardData"/> (needs storage's NpgsqlDataSource).</summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddSingleton<IDashboardData, PostgresDashboardData>();
        return services;
    }
}
