using System.Globalization;
using System.Text.Json;
using Fleet.Server.Api;
using Fleet.Web.Data;

namespace Fleet.Server.Enrollment;

/// <summary>
/// The HTTP JSON API of agent enrollment (the admin page uses <see cref="IEnrollmentAdmin"/> in process; this is for
/// scripts): <c>GET /api/enrollment-tokens</c>, <c>POST /api/enrollment-tokens</c> <c>{"name":"..."}</c> (201 with
/// the token, shown this once), <c>DELETE /api/enrollment-tokens/{id}</c> (revoke: 204, and the agents' streams are
/// cut), all admin only; <c>GET /api/agents</c> for every signed-in role. Changes are audited under
/// <see cref="IActorAccessor"/>'s actor; a bad name is a 400 with the error under "name", an unknown id a 404.
/// </summary>
public static class EnrollmentApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapEnrollmentApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var tokens = endpoints.MapGroup("/api/enrollment-tokens").RequireAuthorization(FleetPolicies.Administer);

        tokens.MapGet("", async (IEnrollmentAdmin admin, CancellationToken ct) =>
            Results.Json(await admin.ListTokensAsync(ct), Json));

        tokens.MapPost("", async (HttpContext context, IEnrollmentAdmin admin, IActorAccessor actor, CancellationToken ct) =>
        {
            var (body, problem) = await JsonBodies.ReadAsync<CreateTokenRequest>(context.Request, Json, "enrollment token", "such as {\"name\":\"web-servers\"}", ct);
            if (body is null)
            {
                return problem!;
            }
            try
            {
                var created = await admin.CreateTokenAsync(body.Name ?? "", actor.CurrentActor(), ct);
                // The token is in this response only: no cache may keep it.
                context.Response.Headers.CacheControl = "no-store";
                return Results.Json(created, Json, statusCode: StatusCodes.Status201Created);
            }
            catch (AccessInvalidException e)
            {
                return Results.ValidationProblem(
                    e.Errors.ToDictionary(kv => kv.Key, kv => kv.Value),
                    title: "Invalid enrollment token",
                    detail: e.Message);
            }
        });

        tokens.MapDelete("/{id:long}", async (long id, IEnrollmentAdmin admin, IActorAccessor actor, CancellationToken ct) =>
            await admin.RevokeTokenAsync(id, actor.CurrentActor(), ct)
                ? Results.NoContent()
                : Results.Problem(
                    statusCode: StatusCodes.Status404NotFound,
                    title: "Unknown enrollment token",
                    detail: string.Create(CultureInfo.InvariantCulture, $"no enrollment token with id {id}")));

        endpoints.MapGet("/api/agents", async (IEnrollmentAdmin admin, CancellationToken ct) =>
            Results.Json(await admin.ListAgentsAsync(ct), Json))
            .RequireAuthorization(FleetPolicies.View);

        return endpoints;
    }

    /// <summary>The body of <c>POST /api/enrollment-tokens</c>.</summary>
    public sealed record CreateTokenRequest(string? Name);
}
