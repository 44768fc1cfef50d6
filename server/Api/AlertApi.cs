using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Fleet.Web.Data;

namespace Fleet.Server.Api;

/// <summary>
/// The alerting HTTP API: rules (list, read, create, replace, delete; each change audited with the caller as actor),
/// alerts (active, or the history), and the audit log. Enums travel as their names (numbers are accepted too);
/// durations as "hh:mm:ss". A rule that does not validate gets 400 with every error under its field; an unknown id 404.
/// </summary>
public static class AlertApi
{
    /// <summary>A rule body larger than this is refused (a rule is a few hundred bytes).</summary>
    /// <summary>How far back GET /api/alerts?state=all looks when no "from" is given.</summary>
    public static readonly TimeSpan DefaultHistory = TimeSpan.FromDays(7);

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static IEndpointRouteBuilder MapAlertApi(this IEndpointRouteBuilder endpoints)
    {
        // Reading needs a viewer; changing rules an admin (FleetPolicies); the audit log is the admin's too.
        var api = endpoints.MapGroup("/api").RequireAuthorization(FleetPolicies.View);
        var admin = api.MapGroup("").RequireAuthorization(FleetPolicies.Administer);

        api.MapGet("/alert-rules", async (IAlertRules rules, CancellationToken ct) =>
            Results.Json(await rules.ListAsync(ct), Json));

        api.MapGet("/alert-rules/{id:long}", async (long id, IAlertRules rules, CancellationToken ct) =>
            await rules.GetAsync(id, ct) is { } rule ? Results.Json(rule, Json) : UnknownRule(id));

        admin.MapPost("/alert-rules", async (HttpRequest request, IAlertRules rules, IActorAccessor actor, CancellationToken ct) =>
        {
            var (draft, problem) = await ReadDraftAsync(request, ct);
            if (draft is null)
            {
                return problem!;
            }
            try
            {
                var rule = await rules.CreateAsync(draft, actor.CurrentActor(), ct);
                return Results.Json(rule, Json, statusCode: StatusCodes.Status201Created);
            }
            catch (AlertRuleInvalidException e)
            {
                return Invalid(e.Errors);
            }
        });

        admin.MapPut("/alert-rules/{id:long}", async (long id, HttpRequest request, IAlertRules rules, IActorAccessor actor, CancellationToken ct) =>
        {
            var (draft, problem) = await ReadDraftAsync(request, ct);
            if (draft is null)
            {
                return problem!;
            }
            try
            {
                return await rules.UpdateAsync(id, draft, actor.CurrentActor(), ct) is { } rule ? Results.Json(rule, Json) : UnknownRule(id);
            }
            catch (AlertRuleInvalidException e)
            {
                return Invalid(e.Errors);
            }
        });

        admin.MapDelete("/alert-rules/{id:long}", async (long id, IAlertRules rules, IActorAccessor actor, CancellationToken ct) =>
            await rules.DeleteAsync(id, actor.CurrentActor(), ct) ? Results.NoContent() : UnknownRule(id));

        api.MapGet("/alerts", async (string? state, string? host, string? severity, string? from, string? to, int? limit, IAlertData alerts, TimeProvider time, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            host = string.IsNullOrWhiteSpace(host) ? null : host;
            state = string.IsNullOrWhiteSpace(state) ? "active" : state;
            if (state is not ("active" or "all"))
            {
                errors["state"] = ["active or all"];
            }
            AlertSeverity? sev = null;
            if (!string.IsNullOrWhiteSpace(severity))
            {
                if (Enum.TryParse<AlertSeverity>(severity, ignoreCase: true, out var s) && Enum.IsDefined(s) && !char.IsDigit(severity[0]))
                {
                    sev = s;
                }
                else
                {
                    errors["severity"] = ["Warning or Critical"];
                }
            }
            var now = time.GetUtcNow();
            var fromAt = Time(from, now - DefaultHistory, "from", errors);
            var toAt = Time(to, now.AddTicks(1), "to", errors);
            if (limit is < 1 or > 1000)
            {
                errors["limit"] = ["between 1 and 1000"];
            }
            if (errors.Count > 0)
            {
                return BadRequest(errors, "Bad alert query");
            }
            if (state == "active")
            {
                var active = await alerts.ActiveAsync(host, ct);
                return Results.Json(sev is null ? active : [.. active.Where(a => a.Severity == sev)], Json);
            }
            return Results.Json(await alerts.HistoryAsync(new AlertHistoryQuery(fromAt, toAt, host, sev, limit ?? 200), ct), Json);
        });

        admin.MapGet("/audit", async (int? limit, IAlertRules rules, CancellationToken ct) =>
            limit is < 1 or > 1000
                ? BadRequest(new Dictionary<string, string[]> { ["limit"] = ["between 1 and 1000"] }, "Bad audit query")
                : Results.Json(await rules.AuditAsync(limit ?? 200, ct), Json));

        endpoints.MapAlertSilenceApi();
        return endpoints;
    }

    /// <summary>
    /// Alert silences: GET /api/silences?state=active|all&amp;limit= (View; active ones ending soonest first, or all
    /// newest first), GET /api/silences/{id} (View), POST /api/silences (Operate; 201 with the silence, 400 with every
    /// error under its field) and DELETE /api/silences/{id} (Operate; ends it now: 200 with the silence, 404 unknown).
    /// The caller is the actor in the audit log. Mapped by <see cref="MapAlertApi"/>.
    /// </summary>
    public static IEndpointRouteBuilder MapAlertSilenceApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/silences");

        api.MapGet("", async (string? state, int? limit, IAlertSilences silences, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            state = string.IsNullOrWhiteSpace(state) ? "active" : state;
            if (state is not ("active" or "all"))
            {
                errors["state"] = ["active or all"];
            }
            if (limit is < 1 or > 1000)
            {
                errors["limit"] = ["between 1 and 1000"];
            }
            return errors.Count > 0
                ? BadRequest(errors, "Bad silence query")
                : Results.Json(await silences.ListAsync(state == "all", limit ?? 200, ct), Json);
        }).RequireAuthorization(FleetPolicies.View);

        api.MapGet("/{id:long}", async (long id, IAlertSilences silences, CancellationToken ct) =>
            await silences.GetAsync(id, ct) is { } silence ? Results.Json(silence, Json) : UnknownSilence(id))
            .RequireAuthorization(FleetPolicies.View);

        api.MapPost("", async (HttpRequest request, IAlertSilences silences, IActorAccessor actor, CancellationToken ct) =>
        {
            var (draft, problem) = await JsonBodies.ReadAsync<AlertSilenceDraft>(request, Json, "alert silence",
                "ruleId, hostPattern, servicePattern or alertId; duration as hh:mm:ss or d.hh:mm:ss; reason", ct);
            if (draft is null)
            {
                return problem!;
            }
            try
            {
                var silence = await silences.CreateAsync(draft, actor.CurrentActor(), ct);
                return Results.Json(silence, Json, statusCode: StatusCodes.Status201Created);
            }
            catch (AlertSilenceInvalidException e)
            {
                return JsonBodies.Invalid(e.Errors, "alert silence");
            }
        }).RequireAuthorization(FleetPolicies.Operate);

        api.MapDelete("/{id:long}", async (long id, IAlertSilences silences, IActorAccessor actor, CancellationToken ct) =>
            await silences.EndAsync(id, actor.CurrentActor(), ct) is { } silence ? Results.Json(silence, Json) : UnknownSilence(id))
            .RequireAuthorization(FleetPolicies.Operate);

        return endpoints;
    }

    /// <summary>Every "field: message" error of a draft under its field, as a validation problem (400).</summary>
    public static IResult Invalid(IReadOnlyList<string> errors) => JsonBodies.Invalid(errors, "alert rule");

    private static IResult BadRequest(Dictionary<string, string[]> errors, string title) =>
        Results.ValidationProblem(errors, title: title, detail: string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));

    private static IResult UnknownSilence(long id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown alert silence", detail: string.Create(CultureInfo.InvariantCulture, $"no alert silence with id {id}"));

    private static IResult UnknownRule(long id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown alert rule", detail: string.Create(CultureInfo.InvariantCulture, $"no alert rule with id {id}"));

    private static Task<(AlertRuleDraft? Value, IResult? Problem)> ReadDraftAsync(HttpRequest request, CancellationToken ct) =>
        JsonBodies.ReadAsync<AlertRuleDraft>(request, Json, "alert rule", "enums by name, durations as hh:mm:ss", ct);

    private static DateTimeOffset Time(string? text, DateTimeOffset fallback, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }
        errors[field] = ["an ISO 8601 time"];
        return fallback;
    }
}
