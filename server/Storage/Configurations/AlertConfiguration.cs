using Fleet.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class AlertConfiguration : IEntityTypeConfiguration<AlertEntity>
{
    /// <summary>Open (pending or firing) alerts: at most one per rule and subject.</summary>
    public const string OpenFilter = "state <> 'Resolved'";

    public void Configure(EntityTypeBuilder<AlertEntity> b)
    {
        b.ToTable("alerts");
        b.HasKey(a => a.Id);
        b.Property(a => a.Id).HasColumnName("id").UseIdentityByDefaultColumn();
        // No foreign key to alert_rules: the history stays when a rule is deleted (its name is copied).
        b.Property(a => a.RuleId).HasColumnName("rule_id");
        b.Property(a => a.RuleName).HasColumnName("rule_name").HasMaxLength(200).IsRequired();
        b.Property(a => a.Metric).HasColumnName("metric").HasConversion<string>().HasMaxLength(40);
        b.Property(a => a.Severity).HasColumnName("severity").HasConversion<string>().HasMaxLength(20);
        b.Property(a => a.State).HasColumnName("state").HasConversion<string>().HasMaxLength(20);
        b.Property(a => a.Host).HasColumnName("host").IsRequired();
        b.Property(a => a.Service).HasColumnName("service");
        b.Property(a => a.Pid).HasColumnName("pid");
        b.Property(a => a.Remote).HasColumnName("remote").HasMaxLength(100);
        b.Property(a => a.Value).HasColumnName("value");
        b.Property(a => a.Threshold).HasColumnName("threshold");
        b.Property(a => a.StartedAt).HasColumnName("started_at");
        b.Property(a => a.FiredAt).HasColumnName("fired_at");
        b.Property(a => a.ResolvedAt).HasColumnName("resolved_at");
        b.Property(a => a.LastEvaluatedAt).HasColumnName("last_evaluated_at");
        b.Property(a => a.Summary).HasColumnName("summary").IsRequired();
        b.HasIndex(a => new { a.RuleId, a.Host, a.Service, a.Pid, a.Remote })
            .IsUnique()
            .HasFilter(OpenFilter)
            .AreNullsDistinct(false)
            .HasDatabaseName("ux_alerts_open_subject");
        b.HasIndex(a => a.StartedAt).HasDatabaseName("ix_alerts_started_at");
        b.HasIndex(a => new { a.Host, a.StartedAt }).HasDatabaseName("ix_alerts_host_started_at");
    }
}
