using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class AlertSilenceConfiguration : IEntityTypeConfiguration<AlertSilenceEntity>
{
    public void Configure(EntityTypeBuilder<AlertSilenceEntity> b)
    {
        b.ToTable("alert_silences", t =>
        {
            t.HasCheckConstraint("ck_alert_silences_window", "ends_at > starts_at");
            t.HasCheckConstraint("ck_alert_silences_subject", "(alert_id IS NULL) = (host IS NULL)");
        });
        b.HasKey(s => s.Id);
        // By default, not always: the store takes the id first so the audit entry names it in the same SaveChanges.
        b.Property(s => s.Id).HasColumnName("id").UseIdentityByDefaultColumn();
        // No foreign keys: a silence outlives the rule or alert it names (their names and subject are copied).
        b.Property(s => s.RuleId).HasColumnName("rule_id");
        b.Property(s => s.RuleName).HasColumnName("rule_name").HasMaxLength(200);
        b.Property(s => s.HostPattern).HasColumnName("host_pattern").HasMaxLength(AlertRuleDraft.MaxPatternLength);
        b.Property(s => s.ServicePattern).HasColumnName("service_pattern").HasMaxLength(AlertRuleDraft.MaxPatternLength);
        b.Property(s => s.AlertId).HasColumnName("alert_id");
        b.Property(s => s.Host).HasColumnName("host");
        b.Property(s => s.Service).HasColumnName("service");
        b.Property(s => s.Pid).HasColumnName("pid");
        b.Property(s => s.Remote).HasColumnName("remote").HasMaxLength(100);
        b.Property(s => s.StartsAt).HasColumnName("starts_at");
        b.Property(s => s.EndsAt).HasColumnName("ends_at");
        b.Property(s => s.Reason).HasColumnName("reason").HasMaxLength(AlertSilenceDraft.MaxReasonLength).IsRequired();
        b.Property(s => s.CreatedBy).HasColumnName("created_by").HasMaxLength(200).IsRequired();
        b.Property(s => s.CreatedAt).HasColumnName("created_at");
        b.Property(s => s.EndedAt).HasColumnName("ended_at");
        b.Property(s => s.EndedBy).HasColumnName("ended_by").HasMaxLength(200);
        b.Property(s => s.ReleasedAt).HasColumnName("released_at");
        b.Ignore(s => s.Until);
        // Silences whose end is not yet handled: the active ones and those just over (a small partial index).
        b.HasIndex(s => s.EndsAt).HasDatabaseName("ix_alert_silences_unreleased").HasFilter("released_at IS NULL");
        b.HasIndex(s => s.CreatedAt).HasDatabaseName("ix_alert_silences_created_at");
    }
}
