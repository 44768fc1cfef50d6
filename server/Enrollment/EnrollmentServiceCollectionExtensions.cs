using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Fleet.Server.Enrollment;

public static class EnrollmentServiceCollectionExtensions
{
    /// <summary>
    /// Agent enrollment (<see cref="IEnrollmentAdmin"/> on PostgreSQL). Needs storage (<c>AddStorage</c>) and ingest
    /// (<c>AddIngest</c>: the stream registry whose streams a revocation cuts, and the watch for revocations made
    /// elsewhere). Its settings are ingest's (<c>Fleet:Ingest:RevocationCheckInterval</c>).
    /// </summary>
    public static IServiceCollection AddEnrollment(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IEnrollmentAdmin, PostgresEnrollmentAdmin>();
        return services;
    }
}
