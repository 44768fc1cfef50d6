using Fleet.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class AgentConfiguration : IEntityTypeConfiguration<AgentEntity>
{
    public void Configure(EntityTypeBuilder<AgentEntity> b)
    {
        b.ToTable("agents", t => t.HasCheckConstraint("ck_agents_sequence", "last_committed_sequence >= 0"));
        b.HasKey(a => a.Id);
        b.Property(a => a.Id).HasColumnName("id").UseIdentityByDefaultColumn();
        b.Property(a => a.AgentId).HasColumnName("agent_id").IsRequired();
        b.Property(a => a.HostId).HasColumnName("host_id");
        b.Property(a => a.TokenId).HasColumnName("token_id");
        b.Property(a => a.Version).HasColumnName("version").IsRequired();
        b.Property(a => a.PeerAddress).HasColumnName("peer_address");
        b.Property(a => a.LastCommittedSequence).HasColumnName("last_committed_sequence");
        b.Property(a => a.FirstSeen).HasColumnName("first_seen");
        b.Property(a => a.LastSeen).HasColumnName("last_seen");
        b.HasIndex(a => a.AgentId).IsUnique().HasDatabaseName("ux_agents_agent_id");
        b.HasIndex(a => a.HostId).HasDatabaseName("ix_agents_host_id");
        b.HasOne(a => a.Host).WithMany().HasForeignKey(a => a.HostId).HasConstraintName("fk_agents_host").OnDelete(DeleteBehavior.Cascade);
        b.HasOne(a => a.Token).WithMany().HasForeignKey(a => a.TokenId).HasConstraintName("fk_agents_token").OnDelete(DeleteBehavior.SetNull);
    }
}
