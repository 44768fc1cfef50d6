using Fleet.Web.Data;

namespace Fleet.Server.Storage.Entities;

/// <summary>
/// One notification of one alert transition to one channel (notification_deliveries), written in the evaluator's
/// transaction (an outbox) and sent by the dispatcher. The body is built when the row is added, so a retry sends what
/// the alert was at the transition. <see cref="ChannelId"/> is kept without a foreign key and the channel's name is
/// copied in: deleting a channel keeps its delivery log (identity ids are never reused).
/// </summary>
public sealed class NotificationDeliveryEntity
{
    /// <summary>Longest <see cref="LastError"/> kept.</summary>
    public const int MaxErrorLength = 500;

    public long Id { get; set; }

    public long ChannelId { get; set; }

    public required string ChannelName { get; set; }

    public long AlertId { get; set; }

    public required string RuleName { get; set; }

    /// <summary>What the alert is about, as shown in the log ("web-1 / api / pid 42").</summary>
    public required string Subject { get; set; }

    /// <summary>"firing" or "resolved".</summary>
    public required string Event { get; set; }

    /// <summary>The request body (jsonb), in the channel's format.</summary>
    public required string Payload { get; set; }

    public DeliveryStatus Status { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastAttemptAt { get; set; }

    /// <summary>When a pending delivery is due (also the end of a claim's lease while it is being sent); null once done.</summary>
    public DateTimeOffset? NextAttemptAt { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    public int? LastStatusCode { get; set; }

    public string? LastError { get; set; }
}
