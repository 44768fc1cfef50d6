using Fleet.Web.Data;

namespace Fleet.Server.Compare;

public static class CompareServiceCollectionExtensions
{
    /// <summary>
    /// Compare and drift: <see cref="IDriftData"/> as <see cref="PostgresDriftData"/> (needs storage's NpgsqlDataSource and
    /// a TimeProvider). The compare page and GET /api/compare read through <see cref="IDashboardData"/> (AddDashboard).
    /// </summary>
    public static IServiceCollection AddCompare(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton<IDriftData, PostgresDriftData>();
        return services;
    }
}
