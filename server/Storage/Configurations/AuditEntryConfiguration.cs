using Fleet.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntryEntity>
{
    public void Configure(EntityTypeBuilder<AuditEntryEntity> b)
    {
        b.ToTable("audit_log");
        b.HasKey(a => a.Id);
        b.Property(a => a.Id).HasColumnName("id").UseIdentityAlwaysColumn();
        b.Property(a => a.At).HasColumnName("at");
        b.Property(a => a.Actor).HasColumnName("actor").HasMaxLength(200).IsRequired();
        b.Property(a => a.Action).HasColumnName("action").HasMaxLength(40).IsRequired();
        b.Property(a => a.Entity).HasColumnName("entity").HasMaxLength(40).IsRequired();
        b.Property(a => a.EntityId).HasColumnName("entity_id").HasMaxLength(100);
        b.Property(a => a.EntityName).HasColumnName("entity_name").HasMaxLength(200);
        b.Property(a => a.Before).HasColumnName("before").HasColumnType("jsonb");
        b.Property(a => a.After).HasColumnName("after").HasColumnType("jsonb");
        b.HasIndex(a => a.At).HasDatabaseName("ix_audit_log_at");
        b.HasIndex(a => new { a.Entity, a.EntityId }).HasDatabaseName("ix_audit_log_entity");
    }
}
