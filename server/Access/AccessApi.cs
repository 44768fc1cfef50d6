using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Fleet.Server.Api;
using Fleet.Web.Data;

namespace Fleet.Server.Access;

/// <summary>
/// The HTTP API of access: <c>GET /api/me</c> and the caller's own API tokens (<c>/api/me/tokens</c>) for anyone
/// signed in; users and roles (<c>/api/users</c>) for admins. Bad input is a 400 with the problems under their fields.
/// </summary>
internal static class AccessApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapAccessApi(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/api/me").RequireAuthorization();
        me.MapGet("", (ClaimsPrincipal user) => Results.Ok(new MeView(
            UserId(user),
            user.Identity?.Name ?? "",
            user.FindFirstValue(ClaimTypes.Role) ?? "",
            user.FindFirstValue(ApiTokenAuthenticationHandler.TokenNameClaim))));
        me.MapGet("/tokens", async (ClaimsPrincipal user, IApiTokens tokens, CancellationToken ct) =>
            Results.Ok(await tokens.ListAsync(UserId(user), ct)));
        me.MapPost("/tokens", async (HttpRequest request, ClaimsPrincipal user, IApiTokens tokens, IActorAccessor actor, CancellationToken ct) =>
        {
            var (body, problem) = await JsonBodies.ReadAsync<TokenRequest>(request, Json, "API token", """{"name": "ci-script", "lifetimeDays": 90}""", ct);
            if (problem is not null)
            {
                return problem;
            }
            if (body!.LifetimeDays is < 1 or > 3650)
            {
                return Invalid(new AccessInvalidException("lifetimeDays", "1 to 3650 days, or absent for a token that never expires"), "API token");
            }
            try
            {
                var made = await tokens.CreateAsync(UserId(user), body.Name ?? "", body.LifetimeDays is { } days ? TimeSpan.FromDays(days) : null, actor.CurrentActor(), ct);
                return Results.Created($"/api/me/tokens/{made.Id.ToString(CultureInfo.InvariantCulture)}", made);
            }
            catch (AccessInvalidException e)
            {
                return Invalid(e, "API token");
            }
        });
        me.MapDelete("/tokens/{id:long}", async (long id, ClaimsPrincipal user, IApiTokens tokens, IActorAccessor actor, CancellationToken ct) =>
            await tokens.RevokeAsync(UserId(user), id, actor.CurrentActor(), ct) ? Results.NoContent() : Results.NotFound());

        var users = app.MapGroup("/api/users").RequireAuthorization(FleetPolicies.Administer);
        users.MapGet("", async (IUserAdmin admin, CancellationToken ct) => Results.Ok(await admin.ListAsync(ct)));
        users.MapPost("", (HttpRequest request, IUserAdmin admin, IActorAccessor actor, CancellationToken ct) =>
            WithBodyAsync<NewUserRequest>(request, """{"userName": "alice", "password": "at least 12 characters", "role": "viewer"}""", async body =>
            {
                var made = await admin.CreateAsync(body.UserName ?? "", body.Password ?? "", body.Role ?? "", actor.CurrentActor(), ct);
                return Results.Created($"/api/users/{Uri.EscapeDataString(made.Id)}", made);
            }, ct));
        users.MapPut("/{id}/role", (string id, HttpRequest request, IUserAdmin admin, IActorAccessor actor, CancellationToken ct) =>
            WithBodyAsync<RoleRequest>(request, """{"role": "operator"}""", async body =>
                OkOrNotFound(await admin.SetRoleAsync(id, body.Role ?? "", actor.CurrentActor(), ct)), ct));
        users.MapPut("/{id}/password", (string id, HttpRequest request, IUserAdmin admin, IActorAccessor actor, CancellationToken ct) =>
            WithBodyAsync<PasswordRequest>(request, """{"password": "at least 12 characters"}""", async body =>
                OkOrNotFound(await admin.SetPasswordAsync(id, body.Password ?? "", actor.CurrentActor(), ct)), ct));
        users.MapPut("/{id}/disabled", (string id, HttpRequest request, IUserAdmin admin, IActorAccessor actor, CancellationToken ct) =>
            WithBodyAsync<DisabledRequest>(request, """{"disabled": true}""", async body =>
                body.Disabled is { } disabled
                    ? OkOrNotFound(await admin.SetDisabledAsync(id, disabled, actor.CurrentActor(), ct))
                    : Invalid(new AccessInvalidException("disabled", "true or false"), "user"), ct));
        users.MapDelete("/{id}", async (string id, IUserAdmin admin, IActorAccessor actor, CancellationToken ct) =>
        {
            try
            {
                return await admin.DeleteAsync(id, actor.CurrentActor(), ct) ? Results.NoContent() : Results.NotFound();
            }
            catch (AccessInvalidException e)
            {
                return Invalid(e, "user");
            }
        });
        return app;
    }

    private static async Task<IResult> WithBodyAsync<T>(HttpRequest request, string hint, Func<T, Task<IResult>> act, CancellationToken ct)
        where T : class
    {
        var (body, problem) = await JsonBodies.ReadAsync<T>(request, Json, "user", hint, ct);
        if (problem is not null)
        {
            return problem;
        }
        try
        {
            return await act(body!);
        }
        catch (AccessInvalidException e)
        {
            return Invalid(e, "user");
        }
    }

    private static IResult OkOrNotFound(UserView? user) => user is null ? Results.NotFound() : Results.Ok(user);

    private static IResult Invalid(AccessInvalidException e, string what) => Results.ValidationProblem(
        e.Errors.ToDictionary(kv => kv.Key.Length == 0 ? "body" : kv.Key, kv => kv.Value),
        title: $"Invalid {what}");

    private static string UserId(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("a signed-in user without an id claim");

    private sealed record MeView(string Id, string UserName, string Role, string? Token);

    private sealed record TokenRequest(string? Name, int? LifetimeDays);

    private sealed record NewUserRequest(string? UserName, string? Password, string? Role);

    private sealed record RoleRequest(string? Role);

    private sealed record PasswordRequest(string? Password);

    private sealed record DisabledRequest(bool? Disabled);
}
