using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class NotificationDeliveryConfiguration : IEntityTypeConfiguration<NotificationDeliveryEntity>
{
    public void Configure(EntityTypeBuilder<NotificationDeliveryEntity> b)
    {
        b.ToTable("notification_deliveries", t =>
        {
            t.HasCheckConstraint("ck_notification_deliveries_status", "status IN ('pending', 'delivered', 'failed', 'suppressed')");
            t.HasCheckConstraint("ck_notification_deliveries_event", "event IN ('firing', 'resolved')");
        });
        b.HasKey(d => d.Id);
        b.Property(d => d.Id).HasColumnName("id").UseIdentityAlwaysColumn();
        // No foreign key on purpose: a deleted channel's deliveries stay in the log under its id and copied name.
        b.Property(d => d.ChannelId).HasColumnName("channel_id");
        b.Property(d => d.ChannelName).HasColumnName("channel_name").HasMaxLength(AlertRuleDraft.MaxNameLength).IsRequired();
        b.Property(d => d.AlertId).HasColumnName("alert_id");
        b.Property(d => d.RuleName).HasColumnName("rule_name").IsRequired();
        b.Property(d => d.Subject).HasColumnName("subject").IsRequired();
        b.Property(d => d.Event).HasColumnName("event").HasMaxLength(20).IsRequired();
        b.Property(d => d.Payload).HasColumnName("payload").HasColumnType("jsonb").IsRequired();
        b.Property(d => d.Status).HasColumnName("status").HasMaxLength(20).HasConversion(NotificationValueConverters.Status);
        b.Property(d => d.Attempts).HasColumnName("attempts");
        b.Property(d => d.CreatedAt).HasColumnName("created_at");
        b.Property(d => d.LastAttemptAt).HasColumnName("last_attempt_at");
        b.Property(d => d.NextAttemptAt).HasColumnName("next_attempt_at");
        b.Property(d => d.DeliveredAt).HasColumnName("delivered_at");
        b.Property(d => d.LastStatusCode).HasColumnName("last_status_code");
        b.Property(d => d.LastError).HasColumnName("last_error").HasMaxLength(NotificationDeliveryEntity.MaxErrorLength);
        // The dispatcher's poll: pending rows by due time (a small partial index: delivered and failed rows leave it).
        b.HasIndex(d => d.NextAttemptAt).HasDatabaseName("ix_notification_deliveries_due").HasFilter("status = 'pending'");
        // The log of one channel, newest first.
        b.HasIndex(d => new { d.ChannelId, d.Id }).HasDatabaseName("ix_notification_deliveries_channel");
        b.HasIndex(d => d.AlertId).HasDatabaseName("ix_notification_deliveries_alert");
    }
}

/// <summary>Enums stored as lower-case words, readable in SQL and stable if members are reordered.</summary>
internal static class NotificationValueConverters
{
    public const string ChannelNameIndex = "ux_notification_channels_name";

    public static readonly Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<ChannelKind, string> Kind =
        new(v => v == ChannelKind.Alertmanager ? "alertmanager" : "webhook", s => s == "alertmanager" ? ChannelKind.Alertmanager : ChannelKind.Webhook);

    public static readonly Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<AlertSeverity, string> Severity =
        new(v => v == AlertSeverity.Critical ? "critical" : "warning", s => s == "critical" ? AlertSeverity.Critical : AlertSeverity.Warning);

    public static readonly Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DeliveryStatus, string> Status =
        new(v => v == DeliveryStatus.Delivered ? "delivered" : v == DeliveryStatus.Failed ? "failed" : v == DeliveryStatus.Suppressed ? "suppressed" : "pending",
            s => s == "delivered" ? DeliveryStatus.Delivered : s == "failed" ? DeliveryStatus.Failed : s == "suppressed" ? DeliveryStatus.Suppressed : DeliveryStatus.Pending);
}
