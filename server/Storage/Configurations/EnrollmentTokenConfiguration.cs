using Fleet.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class EnrollmentTokenConfiguration : IEntityTypeConfiguration<EnrollmentTokenEntity>
{
    public void Configure(EntityTypeBuilder<EnrollmentTokenEntity> b)
    {
        b.ToTable("enrollment_tokens", t => t.HasCheckConstraint("ck_enrollment_tokens_sha256", "octet_length(token_hash) = 32"));
        b.HasKey(t => t.Id);
        b.Property(t => t.Id).HasColumnName("id").UseIdentityByDefaultColumn();
        b.Property(t => t.Name).HasColumnName("name").IsRequired();
        b.Property(t => t.TokenHash).HasColumnName("token_hash").IsRequired();
        b.Property(t => t.CreatedAt).HasColumnName("created_at");
        b.Property(t => t.RevokedAt).HasColumnName("revoked_at");
        b.Property(t => t.CreatedBy).HasColumnName("created_by");
        b.HasIndex(t => t.TokenHash).IsUnique().HasDatabaseName("ux_enrollment_tokens_hash");
    }
}
