using Fleet.Web.Data;

namespace Fleet.Server.Storage.Entities;

/// <summary>Where alert notifications go (notification_channels): a webhook of Fleet's JSON or of the Alertmanager format.</summary>
public sealed class NotificationChannelEntity
{
    public long Id { get; set; }

    /// <summary>Unique; the Alertmanager payload's receiver.</summary>
    public required string Name { get; set; }

    public ChannelKind Kind { get; set; }

    public required string Url { get; set; }

    /// <summary>Transitions of alerts at or above this severity are sent.</summary>
    public AlertSeverity MinSeverity { get; set; }

    public bool Enabled { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public required string UpdatedBy { get; set; }
}
