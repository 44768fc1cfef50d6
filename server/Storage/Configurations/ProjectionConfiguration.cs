using Fleet.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Fleet.Server.Storage.Configurations;

internal sealed class ProjectionConfiguration : IEntityTypeConfiguration<ProjectionEntity>
{
    public void Configure(EntityTypeBuilder<ProjectionEntity> b)
    {
        b.ToTable("projections");
        b.HasKey(p => p.Id);
        b.Property(p => p.Id).HasColumnName("id").UseIdentityAlwaysColumn();
        b.Property(p => p.HostId).HasColumnName("host_id");
        b.Property(p => p.ServiceId).HasColumnName("service_id");
        b.Property(p => p.SeriesKey).HasColumnName("series_key").IsRequired();
        b.Property(p => p.Pid).HasColumnName("pid");
        b.Property(p => p.Command).HasColumnName("command");
        b.Property(p => p.Verdict).HasColumnName("verdict");
        b.Property(p => p.SlopePerHour).HasColumnName("slope_per_hour");
        b.Property(p => p.CurrentFds).HasColumnName("current_fds");
        b.Property(p => p.SoftLimit).HasColumnName("soft_limit");
        b.Property(p => p.HardLimit).HasColumnName("hard_limit");
        b.Property(p => p.TimeToSoftLimit).HasColumnName("time_to_soft_limit");
        b.Property(p => p.TimeToHardLimit).HasColumnName("time_to_hard_limit");
        b.Property(p => p.ExhaustedAt).HasColumnName("exhausted_at");
        b.Property(p => p.Quality).HasColumnName("quality");
        b.Property(p => p.RunStart).HasColumnName("run_start");
        b.Property(p => p.Restarts).HasColumnName("restarts").IsRequired();
        b.Property(p => p.RestartCadence).HasColumnName("restart_cadence");
        b.Property(p => p.Reason).HasColumnName("reason").IsRequired();
        b.Property(p => p.SocketRemote).HasColumnName("socket_remote");
        b.Property(p => p.SocketSlopePerHour).HasColumnName("socket_slope_per_hour");
        b.Property(p => p.SocketCloseWaitNow).HasColumnName("socket_close_wait_now");
        b.Property(p => p.SocketShareOfFdRise).HasColumnName("socket_share_of_fd_rise");
        b.Property(p => p.ComputedAt).HasColumnName("computed_at");
        b.Property(p => p.PassAt).HasColumnName("pass_at");
        b.HasIndex(p => new { p.ServiceId, p.SeriesKey }).IsUnique().HasDatabaseName("ux_projections_service_series");
        b.HasIndex(p => p.HostId).HasDatabaseName("ix_projections_host");
        b.HasIndex(p => p.ExhaustedAt).HasDatabaseName("ix_projections_exhausted_at");
        b.HasOne(p => p.Host).WithMany().HasForeignKey(p => p.HostId).HasConstraintName("fk_projections_host").OnDelete(DeleteBehavior.Cascade);
        b.HasOne(p => p.Service).WithMany().HasForeignKey(p => p.ServiceId).HasConstraintName("fk_projections_service").OnDelete(DeleteBehavior.Cascade);
    }
}
