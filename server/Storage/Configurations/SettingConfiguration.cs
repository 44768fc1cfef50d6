using Fleet.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class SettingConfiguration : IEntityTypeConfiguration<SettingEntity>
{
    public void Configure(EntityTypeBuilder<SettingEntity> b)
    {
        b.ToTable("settings");
        b.HasKey(s => s.Key);
        b.Property(s => s.Key).HasColumnName("key");
        b.Property(s => s.Value).HasColumnName("value").HasColumnType("jsonb").IsRequired();
        b.Property(s => s.UpdatedAt).HasColumnName("updated_at");
        b.HasData(new SettingEntity
        {
            Key = SettingEntity.AgentKey,
            Value = """{"intervalSeconds": 10, "groupingRules": []}""",
            UpdatedAt = new DateTimeOffset(2026, 11, 28, 0, 0, 0, TimeSpan.Zero),
        });
    }
}
