using Fleet.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiTokenEntity>
{
    public void Configure(EntityTypeBuilder<ApiTokenEntity> b)
    {
        b.ToTable("api_tokens", t => t.HasCheckConstraint("ck_api_tokens_sha256", "octet_length(token_hash) = 32"));
        b.HasKey(t => t.Id);
        b.Property(t => t.Id).HasColumnName("id").UseIdentityByDefaultColumn();
        b.Property(t => t.UserId).HasColumnName("user_id").IsRequired();
        b.Property(t => t.Name).HasColumnName("name").IsRequired();
        b.Property(t => t.TokenHash).HasColumnName("token_hash").IsRequired();
        b.Property(t => t.CreatedAt).HasColumnName("created_at");
        b.Property(t => t.ExpiresAt).HasColumnName("expires_at");
        b.Property(t => t.LastUsedAt).HasColumnName("last_used_at");
        b.Property(t => t.RevokedAt).HasColumnName("revoked_at");
        b.HasIndex(t => t.TokenHash).IsUnique().HasDatabaseName("ux_api_tokens_hash");
        b.HasIndex(t => t.UserId).HasDatabaseName("ix_api_tokens_user");
        b.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
