using Fleet.Server.Dashboard;
using Fleet.Server.Ingest;
using Fleet.Server.Projection;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Mvc;

namespace Fleet.Server.Api;

/// <summary>A leak projection as the HTTP API gives it: times in seconds, the verdict by name ("Leak", "NoLeak", "InsufficientData").</summary>
public sealed record ProjectionJson(
    string Host,
    string Service,
    int? Pid,
    string? Command,
    string Verdict,
    double SlopePerHour,
    double CurrentFds,
    ulong SoftLimit,
    ulong HardLimit,
    double? TimeToSoftLimitSeconds,
    double? TimeToHardLimitSeconds,
    DateTimeOffset? ExhaustedAt,
    double Quality,
    DateTimeOffset? RunStart,
    IReadOnlyList<DateTimeOffset> Restarts,
    double? RestartCadenceSeconds,
    string Reason,
    SocketLeakJson? SocketLeak,
    DateTimeOffset ComputedAt)
{
    public static ProjectionJson From(ProjectionView p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new(
            p.Host,
            p.Service,
            p.Pid,
            p.Command,
            p.Verdict.ToString(),
            p.SlopePerHour,
            p.CurrentFds,
            p.SoftLimit,
            p.HardLimit,
            p.TimeToSoftLimit?.TotalSeconds,
            p.TimeToHardLimit?.TotalSeconds,
            p.ExhaustedAt,
            p.Quality,
            p.RunStart,
            p.Restarts,
            p.RestartCadence?.TotalSeconds,
            p.Reason,
            p.SocketLeak is { } s ? new SocketLeakJson(s.Remote, s.CloseWaitSlopePerHour, s.CloseWaitNow, s.ShareOfFdRise) : null,
            p.ComputedAt);
    }
}

/// <summary>CLOSE_WAIT toward one remote endpoint that grows with the fds.</summary>
public sealed record SocketLeakJson(string Remote, double CloseWaitSlopePerHour, ulong CloseWaitNow, double ShareOfFdRise);

/// <summary>The leak projections over HTTP: GET /api/projections?host=&amp;service= and GET /api/hosts/{name}/projections.</summary>
public static class ProjectionApi
{
    public static IEndpointRouteBuilder MapProjectionApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api").RequireAuthorization(FleetPolicies.View);

        api.MapGet("/projections", async ([FromQuery] string? host, [FromQuery] string? service, ProjectionStore store, CancellationToken ct) =>
        {
            var problems = new Dictionary<string, string[]>();
            if (host is not null && !PostgresDashboardData.IsName(host))
            {
                problems["host"] = [$"'{SnapshotValidator.Shorten(host)}' is not a host name (1 to {PostgresDashboardData.MaxNameLength} characters, no NUL)"];
            }
            if (service is not null && !PostgresDashboardData.IsName(service))
            {
                problems["service"] = [$"'{SnapshotValidator.Shorten(service)}' is not a service name (1 to {PostgresDashboardData.MaxNameLength} characters, no NUL)"];
            }
            if (problems.Count > 0)
            {
                return Results.ValidationProblem(problems, title: "Bad projection parameters",
                    detail: string.Join("; ", problems.Select(p => $"{p.Key}: {string.Join(", ", p.Value)}")));
            }
            if (service is not null && !await store.ServiceExistsAsync(service, ct))
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown service",
                    detail: $"no service named '{SnapshotValidator.Shorten(service)}' is known");
            }
            var projections = await store.QueryAsync(host, service, ct);
            return projections is null ? UnknownHost(host!) : Results.Ok(projections.Select(ProjectionJson.From).ToList());
        });

        api.MapGet("/hosts/{name}/projections", async (string name, ProjectionStore store, CancellationToken ct) =>
            await store.FindHostAsync(name, ct) is { } projections
                ? Results.Ok(projections.Select(ProjectionJson.From).ToList())
                : UnknownHost(name));

        return endpoints;
    }

    private static IResult UnknownHost(string name) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown host",
            detail: $"no host named '{SnapshotValidator.Shorten(name)}' has sent a snapshot (GET /api/hosts lists the known ones)");
}
