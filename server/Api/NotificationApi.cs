using System.Text.Json;
using System.Text.Json.Serialization;
using Fleet.Server.Notifications;
using Fleet.Web.Data;

namespace Fleet.Server.Api;

/// <summary>
/// The HTTP JSON API of notification channels and their delivery log (the UI uses <see cref="INotificationChannels"/>
/// in process; this is for scripts). Enums are written as camelCase names and read as names or numbers; changes are
/// audited under <see cref="IActorAccessor"/>'s actor.
/// </summary>
public static class NotificationApi
{
    /// <summary>A channel is a few hundred bytes: a body larger than this is refused.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static IEndpointRouteBuilder MapNotificationApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api");

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

    private static async Task<(ChannelDraft? Draft, IResult? Problem)> ReadDraftAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, TooLarge());
        }
        string body;
        using (var reader = new StreamReader(request.Body))
        {
            char[] buffer = new char[MaxBodyBytes + 1];
            int read = await reader.ReadBlockAsync(buffer.AsMemory(), ct);
            if (read > MaxBodyBytes)
            {
                return (null, TooLarge());
            }
            body = new string(buffer, 0, read);
        }
        try
        {
            var draft = JsonSerializer.Deserialize<ChannelDraft>(body, Json);
            return draft is null ? (null, Invalid(["body: a channel object expected"])) : (draft, null);
        }
        catch (JsonException ex)
        {
            return (null, Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a notification channel",
                detail: "the body must be JSON such as {\"name\":\"ops\",\"kind\":\"alertmanager\",\"url\":\"https://hooks.example.com/x\",\"minSeverity\":\"warning\",\"enabled\":true}: " + ex.Message));
        }
    }

    private static IResult Invalid(IReadOnlyList<string> errors)
    {
        var byField = errors
            .GroupBy(e => e.IndexOf(':', StringComparison.Ordinal) is > 0 and var i ? e[..i] : "channel")
            .ToDictionary(g => g.Key, g => g.Select(e => e.IndexOf(':', StringComparison.Ordinal) is > 0 and var i ? e[(i + 1)..].Trim() : e).ToArray());
        return Results.ValidationProblem(byField, title: "Invalid notification channel", detail: string.Join("; ", errors));
    }

    private static IResult TooLarge() =>
        Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Channel too large", detail: $"at most {MaxBodyBytes} bytes");

    private static IResult UnknownChannel(long id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown notification channel", detail: $"no channel with id {id} (GET /api/notification-channels lists them)");
}
