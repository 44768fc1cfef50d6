using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Fleet.Server.Enrollment;

public static class EnrollmentServiceCollectionExtensions
{
    /// <summary>
    /// Agent enrollment (<see cref="IEnrollmentAdmin"/> on PostgreSQL). Needs storage (<c>AddStorage</c>); with ingest
    /// (<c>AddIngest</c>: the stream registry) a revocation also cuts this server's open streams of the token at once,
    /// without it (the command line) the running servers cut them within <c>Fleet:Ingest:RevocationCheckInterval</c>.
    /// </summary>
    public static IServiceCollection AddEnrollment(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IEnrollmentAdmin, PostgresEnrollmentAdmin>();
        return services;
    }
}
