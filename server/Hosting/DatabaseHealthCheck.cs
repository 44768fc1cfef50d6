using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Fleet.Server.Hosting;

/// <summary>Readiness: the configured database answers a query within a few seconds.</summary>
internal sealed class DatabaseHealthCheck(IConfiguration configuration) : IHealthCheck
{
    public static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        string? connectionString = configuration.GetConnectionString(LocalDatabaseHostingExtensions.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return HealthCheckResult.Unhealthy("no database configured (ConnectionStrings:Fleet)");
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Timeout);
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString) { Timeout = (int)Timeout.TotalSeconds };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cts.Token).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cts.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy("the database answers");
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or ArgumentException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy($"the database does not answer: {ex.Message}");
        }
    }
}
