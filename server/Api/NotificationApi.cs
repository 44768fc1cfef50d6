using System.Text.Json;
using System.Text.Json.Serialization;
using Fleet.Server.Notifications;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Fleet.Server.Api;

/// <summary>
/// The HTTP JSON API of notification channels and their delivery log (the UI uses <see cref="INotificationChannels"/>
/// in process; this is for scripts). Enums are written as camelCase names and read as names or numbers; changes are
/// audited under <see cref="IActorAccessor"/>'s actor.
/// </summary>
public static class NotificationApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static IEndpointRouteBuilder MapNotificationApi(this IEndpointRouteBuilder endpoints)
    {
        // Admins only, reading too: webhook URLs and headers can hold secrets.
        var api = endpoints.MapGroup("/api").RequireAuthorization(FleetPolicies.Administer);

        api.MapGet("/notification-channels", async (INotificationChannels channels, CancellationToken ct) =>
            Results.Json(await channels.ListAsync(ct), Json));

        api.MapPost("/notification-channels", async (HttpRequest request, INotificationChannels channels, IActorAccessor actor, CancellationToken ct) =>
        {
            var (draft, problem) = await ReadDraftAsync(request, ct);
            if (draft is null)
            {
                return problem!;
            }
            try
            {
                var created = await channels.CreateAsync(draft, actor.CurrentActor(), ct);
                return Results.Json(created, Json, statusCode: StatusCodes.Status201Created);
            }
            catch (ChannelInvalidException ex)
            {
                return Invalid(ex.Errors);
            }
        });

        api.MapPut("/notification-channels/{id:long}", async (long id, HttpRequest request, INotificationChannels channels, IActorAccessor actor, CancellationToken ct) =>
        {
            var (draft, problem) = await ReadDraftAsync(request, ct);
            if (draft is null)
            {
                return problem!;
            }
            try
            {
                return await channels.UpdateAsync(id, draft, actor.CurrentActor(), ct) is { } updated ? Results.Json(updated, Json) : UnknownChannel(id);
            }
            catch (ChannelInvalidException ex)
            {
                return Invalid(ex.Errors);
            }
        });

        api.MapDelete("/notification-channels/{id:long}", async (long id, INotificationChannels channels, IActorAccessor actor, CancellationToken ct) =>
            await channels.DeleteAsync(id, actor.CurrentActor(), ct) ? Results.NoContent() : UnknownChannel(id));

        api.MapGet("/notification-deliveries", async (long? channelId, int? limit, INotificationChannels channels, CancellationToken ct) =>
        {
            if (limit is < 1 or > PostgresNotificationChannels.MaxDeliveries)
            {
                return Invalid([$"limit: between 1 and {PostgresNotificationChannels.MaxDeliveries}"]);
            }
            return Results.Json(await channels.DeliveriesAsync(channelId, limit ?? 200, ct), Json);
        });

        return endpoints;
    }

    private static Task<(ChannelDraft? Value, IResult? Problem)> ReadDraftAsync(HttpRequest request, CancellationToken ct) =>
        JsonBodies.ReadAsync<ChannelDraft>(request, Json, "notification channel",
            "such as {\"name\":\"ops\",\"kind\":\"alertmanager\",\"url\":\"https://hooks.example.com/x\",\"minSeverity\":\"warning\",\"enabled\":true}", ct);

    private static ValidationProblem Invalid(IReadOnlyList<string> errors) => JsonBodies.Invalid(errors, "notification channel");

    private static IResult UnknownChannel(long id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown notification channel", detail: $"no channel with id {id} (GET /api/notification-channels lists them)");
}
