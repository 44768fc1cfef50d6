using Fleet.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class ServiceConfiguration : IEntityTypeConfiguration<ServiceEntity>
{
    public void Configure(EntityTypeBuilder<ServiceEntity> b)
    {
        b.ToTable("services");
        b.HasKey(s => s.Id);
        b.Property(s => s.Id).HasColumnName("id").UseIdentityByDefaultColumn();
        b.Property(s => s.HostId).HasColumnName("host_id");
        b.Property(s => s.Name).HasColumnName("name").IsRequired();
        b.Property(s => s.Source).HasColumnName("source");
        b.Property(s => s.FirstSeen).HasColumnName("first_seen");
        b.Property(s => s.LastSeen).HasColumnName("last_seen");
        b.HasIndex(s => new { s.HostId, s.Name }).IsUnique().HasDatabaseName("ux_services_host_name");
        b.HasOne(s => s.Host).WithMany().HasForeignKey(s => s.HostId).HasConstraintName("fk_services_host").OnDelete(DeleteBehavior.Cascade);
    }
}
