using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class IncidentSnapshotConfiguration : IEntityTypeConfiguration<IncidentSnapshotEntity>
{
    public void Configure(EntityTypeBuilder<IncidentSnapshotEntity> b)
    {
        b.ToTable("incident_snapshots", t =>
        {
            t.HasCheckConstraint("ck_incident_snapshots_window", "to_time > from_time");
            t.HasCheckConstraint("ck_incident_snapshots_sha256", "octet_length(sha256) = 32");
        });
        b.HasKey(s => s.Id);
        // By default, not always: the store takes the id ahead of the insert (the document and the audit entry name it).
        b.Property(s => s.Id).HasColumnName("id").UseIdentityByDefaultColumn();
        b.Property(s => s.Title).HasColumnName("title").HasMaxLength(SnapshotRequest.MaxTitleLength).IsRequired();
        b.Property(s => s.Notes).HasColumnName("notes").HasMaxLength(SnapshotRequest.MaxNotesLength).IsRequired();
        // Enums as their names: readable in SQL, and safe against reordering the enum.
        b.Property(s => s.Origin).HasColumnName("origin").HasConversion<string>().HasMaxLength(20);
        b.Property(s => s.Hosts).HasColumnName("hosts").HasColumnType("text[]").IsRequired();
        b.Property(s => s.Service).HasColumnName("service").HasMaxLength(256);
        b.Property(s => s.From).HasColumnName("from_time");
        b.Property(s => s.To).HasColumnName("to_time");
        b.Property(s => s.CreatedAt).HasColumnName("created_at");
        b.Property(s => s.CreatedBy).HasColumnName("created_by").HasMaxLength(200).IsRequired();
        b.Property(s => s.ImportedFrom).HasColumnName("imported_from").HasMaxLength(400);
        b.Property(s => s.FormatVersion).HasColumnName("format_version");
        b.Property(s => s.SizeBytes).HasColumnName("size_bytes");
        b.Property(s => s.Document).HasColumnName("document").HasColumnType("bytea").IsRequired();
        b.Property(s => s.Sha256).HasColumnName("sha256").HasColumnType("bytea").IsRequired();
        b.HasIndex(s => s.CreatedAt).HasDatabaseName("ix_incident_snapshots_created_at");
    }
}
