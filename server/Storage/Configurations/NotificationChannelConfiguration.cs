using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class NotificationChannelConfiguration : IEntityTypeConfiguration<NotificationChannelEntity>
{
    public void Configure(EntityTypeBuilder<NotificationChannelEntity> b)
    {
        b.ToTable("notification_channels", t =>
        {
            t.HasCheckConstraint("ck_notification_channels_kind", "kind IN ('webhook', 'alertmanager')");
            t.HasCheckConstraint("ck_notification_channels_min_severity", "min_severity IN ('warning', 'critical')");
        });
        b.HasKey(c => c.Id);
        b.Property(c => c.Id).HasColumnName("id").UseIdentityAlwaysColumn();
        b.Property(c => c.Name).HasColumnName("name").HasMaxLength(AlertRuleDraft.MaxNameLength).IsRequired();
        b.Property(c => c.Kind).HasColumnName("kind").HasMaxLength(20).HasConversion(NotificationValueConverters.Kind);
        b.Property(c => c.Url).HasColumnName("url").HasMaxLength(2000).IsRequired();
        b.Property(c => c.MinSeverity).HasColumnName("min_severity").HasMaxLength(20).HasConversion(NotificationValueConverters.Severity);
        b.Property(c => c.Enabled).HasColumnName("enabled");
        b.Property(c => c.CreatedAt).HasColumnName("created_at");
        b.Property(c => c.UpdatedAt).HasColumnName("updated_at");
        b.Property(c => c.UpdatedBy).HasColumnName("updated_by").HasMaxLength(200).IsRequired();
        b.HasIndex(c => c.Name).IsUnique().HasDatabaseName(NotificationValueConverters.ChannelNameIndex);
    }
}
