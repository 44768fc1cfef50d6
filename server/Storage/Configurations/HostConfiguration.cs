using Fleet.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class HostConfiguration : IEntityTypeConfiguration<HostEntity>
{
    public void Configure(EntityTypeBuilder<HostEntity> b)
    {
        b.ToTable("hosts");
        b.HasKey(h => h.Id);
        b.Property(h => h.Id).HasColumnName("id").UseIdentityByDefaultColumn();
        b.Property(h => h.MachineId).HasColumnName("machine_id").IsRequired();
        b.Property(h => h.Hostname).HasColumnName("hostname").IsRequired();
        b.Property(h => h.Kernel).HasColumnName("kernel").IsRequired();
        b.Property(h => h.BootId).HasColumnName("boot_id").IsRequired();
        b.Property(h => h.AgentVersion).HasColumnName("agent_version").IsRequired();
        b.Property(h => h.FirstSeen).HasColumnName("first_seen");
        b.Property(h => h.LastSeen).HasColumnName("last_seen");
        b.Property(h => h.LatestSnapshot).HasColumnName("latest_snapshot");
        b.Property(h => h.LatestCollectedAt).HasColumnName("latest_collected_at");
        b.HasIndex(h => h.MachineId).IsUnique().HasDatabaseName("ux_hosts_machine_id");
        b.HasIndex(h => h.Hostname).HasDatabaseName("ix_hosts_hostname");
    }
}
