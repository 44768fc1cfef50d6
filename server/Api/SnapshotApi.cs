using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Fleet.Server.Snapshots;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Api;

/// <summary>
/// The incident snapshot HTTP API: list, take (a <see cref="SnapshotRequest"/>), open, rename, delete, download the
/// archive (a zip) and import one. Enums travel as their names; NaN percentages as "NaN". A request or archive that
/// is refused gets 400 with every problem under its field; an unknown id 404; an archive over the limit 413.
/// </summary>
public static class SnapshotApi
{
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    private const string RequestHint = """{"title": "...", "notes": "...", "origin": "Host|Service|Compare", "hosts": ["web-1"], "service": null, "from": "2030-01-01T10:00:00Z", "to": "2030-01-01T11:00:00Z"}""";

    private static readonly string[] ZipTypes = ["application/zip", "application/x-zip-compressed", "application/octet-stream"];

    public static IEndpointRouteBuilder MapSnapshotApi(this IEndpointRouteBuilder endpoints)
    {
        // Viewers open and download snapshots; operators make, import, rename and delete them.
        var api = endpoints.MapGroup("/api/snapshots").RequireAuthorization(FleetPolicies.View);
        var operate = api.MapGroup("").RequireAuthorization(FleetPolicies.Operate);

        api.MapGet("", async (IIncidentSnapshots snapshots, CancellationToken ct) =>
            Results.Json(await snapshots.ListAsync(ct), Json));

        operate.MapPost("", async (HttpRequest request, IIncidentSnapshots snapshots, IActorAccessor actor, CancellationToken ct) =>
        {
            var (body, problem) = await JsonBodies.ReadAsync<SnapshotRequest>(request, Json, "snapshot request", RequestHint, ct);
            if (body is null)
            {
                return problem!;
            }
            try
            {
                var info = await snapshots.CreateAsync(body with { Notes = body.Notes ?? "" }, actor.CurrentActor(), ct);
                return Results.Json(info, Json, statusCode: StatusCodes.Status201Created);
            }
            catch (SnapshotRefusedException e)
            {
                return JsonBodies.Invalid(e.Errors, "snapshot request");
            }
        });

        api.MapGet("/{id:long}", async (long id, IIncidentSnapshots snapshots, CancellationToken ct) =>
            await snapshots.OpenAsync(id, ct) is { } snapshot ? Results.Json(snapshot, Json) : Unknown(id));

        operate.MapPatch("/{id:long}", async (long id, HttpRequest request, IIncidentSnapshots snapshots, IActorAccessor actor, CancellationToken ct) =>
        {
            var (body, problem) = await JsonBodies.ReadAsync<RenameBody>(request, Json, "rename", """{"title": "..."}""", ct);
            if (body is null)
            {
                return problem!;
            }
            try
            {
                return await snapshots.RenameAsync(id, body.Title!, actor.CurrentActor(), ct) is { } info ? Results.Json(info, Json) : Unknown(id);
            }
            catch (SnapshotRefusedException e)
            {
                return JsonBodies.Invalid(e.Errors, "rename");
            }
        });

        operate.MapDelete("/{id:long}", async (long id, IIncidentSnapshots snapshots, IActorAccessor actor, CancellationToken ct) =>
            await snapshots.DeleteAsync(id, actor.CurrentActor(), ct) ? Results.NoContent() : Unknown(id));

        api.MapGet("/{id:long}/archive", async (long id, IIncidentSnapshots snapshots, CancellationToken ct) =>
        {
            var archive = new MemoryStream();
            if (!await snapshots.ExportAsync(id, archive, ct))
            {
                return Unknown(id);
            }
            archive.Position = 0;
            return Results.File(archive, "application/zip", ArchiveFileName(id));
        });

        operate.MapPost("/import", async (HttpContext context, IIncidentSnapshots snapshots, IActorAccessor actor, IOptions<SnapshotOptions> options, CancellationToken ct) =>
        {
            long limit = options.Value.MaxArchiveBytes;
            var request = context.Request;
            if (request.ContentType is { Length: > 0 } type && !ZipTypes.Any(z => type.StartsWith(z, StringComparison.OrdinalIgnoreCase)))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Not a zip",
                    detail: $"content type {type}: an archive is sent as application/zip");
            }
            if (request.ContentLength > limit)
            {
                // Refused before reading: a client that sent "Expect: 100-continue" never sends the body, and the
                // connection is closed rather than drained of it.
                context.Response.Headers.Connection = "close";
                return TooLarge(limit);
            }
            // The archive may be larger than the server's default request limit, up to the snapshot limit.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            {
                size.MaxRequestBodySize = limit + 1;
            }
            var body = new MemoryStream();
            byte[] chunk = new byte[81920];
            while (true)
            {
                int n;
                try
                {
                    n = await request.Body.ReadAsync(chunk, ct);
                }
                catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    return TooLarge(limit);
                }
                if (n == 0)
                {
                    break;
                }
                if (body.Length + n > limit)
                {
                    context.Response.Headers.Connection = "close";
                    return TooLarge(limit);
                }
                body.Write(chunk, 0, n);
            }
            body.Position = 0;
            try
            {
                var info = await snapshots.ImportAsync(body, actor.CurrentActor(), ct);
                return Results.Json(info, Json, statusCode: StatusCodes.Status201Created);
            }
            catch (SnapshotRefusedException e)
            {
                return JsonBodies.Invalid(e.Errors, "snapshot archive");
            }
        });

        return endpoints;
    }

    /// <summary>"fleet-snapshot-42.zip": the id alone, so no title reaches a header.</summary>
    public static string ArchiveFileName(long id) => $"fleet-snapshot-{id.ToString(CultureInfo.InvariantCulture)}.zip";

    private static ProblemHttpResult Unknown(long id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such snapshot", detail: $"no incident snapshot has id {id.ToString(CultureInfo.InvariantCulture)}");

    private static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Snapshot archive too large",
            detail: $"at most {limit.ToString(CultureInfo.InvariantCulture)} bytes");

    private sealed record RenameBody(string? Title);
}
