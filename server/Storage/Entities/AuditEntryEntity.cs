using System.Text.Json;

namespace Fleet.Server.Storage.Entities;

/// <summary>
/// One recorded change (audit_log): who, when, what was changed, and its state before and after as JSON. Written in
/// the same SaveChanges as the change itself, so no change is kept without its record. Issue 7 adds sign-ins.
/// </summary>
public sealed class AuditEntryEntity
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    public required string Actor { get; set; }

    /// <summary>"created", "updated", "deleted" (later also "signed-in" and the like).</summary>
    public required string Action { get; set; }

    /// <summary>What kind of thing changed: "alert-rule", "notification-channel", ...</summary>
    public required string Entity { get; set; }

    public string? EntityId { get; set; }

    public string? EntityName { get; set; }

    /// <summary>JSON (jsonb) of the state before; null on create.</summary>
    public string? Before { get; set; }

    /// <summary>JSON (jsonb) of the state after; null on delete.</summary>
    public string? After { get; set; }

    /// <summary>Actor names are cut to this length.</summary>
    public const int MaxActorLength = 200;

    /// <summary>The actor as the log keeps it: trimmed, at most <see cref="MaxActorLength"/> characters, and
    /// <see cref="Fleet.Web.Data.AnonymousActor.Name"/> when none is given.</summary>
    public static string ActorOf(string? actor)
    {
        string? who = actor?.Trim();
        return string.IsNullOrEmpty(who) ? Fleet.Web.Data.AnonymousActor.Name : who.Length > MaxActorLength ? who[..MaxActorLength] : who;
    }

    /// <summary>A change of <paramref name="entity"/>, its states serialized with the web defaults (camelCase, enums as numbers).</summary>
    public static AuditEntryEntity Change<T>(DateTimeOffset at, string actor, string action, string entity, string? entityId, string? entityName, T? before, T? after)
        where T : class => new()
        {
            At = at,
            Actor = actor,
            Action = action,
            Entity = entity,
            EntityId = entityId,
            EntityName = entityName,
            Before = before is null ? null : JsonSerializer.Serialize(before, Json),
            After = after is null ? null : JsonSerializer.Serialize(after, Json),
        };
}
