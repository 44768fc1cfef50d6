using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Google.Protobuf;
using Microsoft.AspNetCore.Mvc;
using Fleet.Web.Data;

namespace Fleet.Server.Api;

/// <summary>The HTTP JSON API: hosts, their latest snapshot and series, and the agent configuration.</summary>
public static class FleetApi
{
    /// <summary>A PUT body larger than this is refused (an agent configuration is a few KiB).</summary>
    public const int MaxConfigBodyBytes = 1024 * 1024;

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    public static IEndpointRouteBuilder MapFleetApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api").RequireAuthorization(FleetPolicies.View);
        var admin = api.MapGroup("").RequireAuthorization(FleetPolicies.Administer);

        api.MapGet("/hosts", async (IFleetQueries queries, CancellationToken ct) =>
            Results.Ok(await queries.ListHostsAsync(ct)));

        api.MapGet("/hosts/{name}/latest", async (string name, IFleetQueries queries, CancellationToken ct) =>
            await queries.LatestSnapshotAsync(name, ct) is { } snapshot
                ? Results.Text(Formatter.Format(snapshot), "application/json")
                : UnknownHost(name));

        api.MapGet("/hosts/{name}/series", async (
            string name,
            [FromQuery] string? metric,
            [FromQuery] string? service,
            [FromQuery] string? from,
            [FromQuery] string? to,
            [FromQuery] string? step,
            IFleetQueries queries,
            TimeProvider time,
            CancellationToken ct) =>
        {
            var (query, problems) = SeriesRequest.Parse(name, metric, service, from, to, step, time.GetUtcNow());
            if (query is null)
            {
                return Results.ValidationProblem(problems, title: "Bad series parameters", detail: string.Join("; ", problems.Select(p => $"{p.Key}: {string.Join(", ", p.Value)}")));
            }
            try
            {
                return await queries.SeriesAsync(query, ct) is { } series ? Results.Ok(series) : UnknownHost(name);
            }
            catch (ArgumentException ex)
            {
                // Storage's own checks of the query (a metric it does not know, too many points).
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad series parameters", detail: ex.Message);
            }
        });

        api.MapGet("/agent-config", (AgentConfigPublisher config) =>
            Results.Text(Formatter.Format(config.Current), "application/json"));

        admin.MapPut("/agent-config", async (HttpRequest request, AgentConfigPublisher publisher, CancellationToken ct) =>
        {
            if (request.ContentLength > MaxConfigBodyBytes)
            {
                return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Configuration too large", detail: $"at most {MaxConfigBodyBytes} bytes");
            }
            string body;
            using (var reader = new StreamReader(request.Body))
            {
                body = await reader.ReadToEndAsync(ct);
            }
            if (body.Length > MaxConfigBodyBytes)
            {
                return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Configuration too large", detail: $"at most {MaxConfigBodyBytes} bytes");
            }
            AgentConfig config;
            try
            {
                config = JsonParser.Default.Parse<AgentConfig>(body);
            }
            catch (Exception ex) when (ex is InvalidProtocolBufferException or InvalidJsonException or FormatException)
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a fleet.v1.AgentConfig",
                    detail: $"the body must be the protobuf JSON of fleet.v1.AgentConfig, such as {{\"interval\":\"10s\",\"groupingRules\":[{{\"field\":\"FIELD_COMM\",\"pattern\":\"^java$\",\"serviceTemplate\":\"java\"}}]}}: {ex.Message}");
            }
            var errors = AgentConfigRules.Validate(config);
            if (errors.Count > 0)
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid agent configuration", detail: string.Join("; ", errors));
            }
            publisher.Publish(config);
            return Results.Text(Formatter.Format(publisher.Current), "application/json");
        });

        return endpoints;
    }

    private static IResult UnknownHost(string name) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown host",
            detail: $"no host named '{SnapshotValidator.Shorten(name)}' has sent a snapshot (GET /api/hosts lists the known ones)");
}
