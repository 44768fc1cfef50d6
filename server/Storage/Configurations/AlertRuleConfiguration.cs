using Fleet.Server.Alerts;
using Fleet.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class AlertRuleConfiguration : IEntityTypeConfiguration<AlertRuleEntity>
{
    public void Configure(EntityTypeBuilder<AlertRuleEntity> b)
    {
        b.ToTable("alert_rules", t => t.HasCheckConstraint("ck_alert_rules_for", "for_duration >= interval '0'"));
        b.HasKey(r => r.Id);
        // The seeded defaults take ids below FirstUserRuleId: the identity starts above them.
        b.Property(r => r.Id).HasColumnName("id").UseIdentityByDefaultColumn().HasIdentityOptions(startValue: DefaultAlertRules.FirstUserRuleId);
        b.Property(r => r.Name).HasColumnName("name").HasMaxLength(200).IsRequired();
        // Enums as their names: readable in SQL, and safe against reordering the enum.
        b.Property(r => r.Metric).HasColumnName("metric").HasConversion<string>().HasMaxLength(40);
        b.Property(r => r.Scope).HasColumnName("scope").HasConversion<string>().HasMaxLength(20);
        b.Property(r => r.Pattern).HasColumnName("pattern").HasMaxLength(400);
        b.Property(r => r.Remote).HasColumnName("remote").HasMaxLength(100);
        b.Property(r => r.Threshold).HasColumnName("threshold");
        b.Property(r => r.Recovery).HasColumnName("recovery");
        b.Property(r => r.For).HasColumnName("for_duration");
        b.Property(r => r.Severity).HasColumnName("severity").HasConversion<string>().HasMaxLength(20);
        b.Property(r => r.Enabled).HasColumnName("enabled");
        b.Property(r => r.CreatedAt).HasColumnName("created_at");
        b.Property(r => r.UpdatedAt).HasColumnName("updated_at");
        b.Property(r => r.UpdatedBy).HasColumnName("updated_by").HasMaxLength(200).IsRequired();
        b.HasData(DefaultAlertRules.All.Select(d =>
        {
            var rule = new AlertRuleEntity { Id = d.Id, Name = d.Draft.Name, UpdatedBy = DefaultAlertRules.Actor, CreatedAt = DefaultAlertRules.SeededAt, UpdatedAt = DefaultAlertRules.SeededAt };
            rule.Apply(d.Draft);
            return rule;
        }));
    }
}
