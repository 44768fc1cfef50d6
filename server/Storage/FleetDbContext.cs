using Fleet.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Fleet.Server.Storage;

/// <summary>
/// The relational model (hosts, agents, service instances, enrollment tokens, settings, the audit log). The time series are
/// not in the model: they are partitioned tables made by the migrations with SQL and written with binary COPY.
/// </summary>
public sealed class FleetDbContext(DbContextOptions<FleetDbContext> options) : DbContext(options)
{
    public DbSet<HostEntity> Hosts => Set<HostEntity>();

    public DbSet<AgentEntity> Agents => Set<AgentEntity>();

    public DbSet<ServiceEntity> Services => Set<ServiceEntity>();

    public DbSet<EnrollmentTokenEntity> EnrollmentTokens => Set<EnrollmentTokenEntity>();

    public DbSet<SettingEntity> Settings => Set<SettingEntity>();

    public DbSet<AuditEntryEntity> AuditLog => Set<AuditEntryEntity>();

    public DbSet<AlertRuleEntity> AlertRules => Set<AlertRuleEntity>();

    public DbSet<AlertEntity> Alerts => Set<AlertEntity>();

    public DbSet<ProjectionEntity> Projections => Set<ProjectionEntity>();

    public DbSet<NotificationChannelEntity> NotificationChannels => Set<NotificationChannelEntity>();

    public DbSet<NotificationDeliveryEntity> NotificationDeliveries => Set<NotificationDeliveryEntity>();

    public DbSet<IncidentSnapshotEntity> IncidentSnapshots => Set<IncidentSnapshotEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(FleetDbContext).Assembly, t => t.Namespace == typeof(Configurations.HostConfiguration).Namespace);
}

/// <summary>For `dotnet ef migrations add` only: migrations are made without a database.</summary>
internal sealed class FleetDesignTimeDbContextFactory : IDesignTimeDbContextFactory<FleetDbContext>
{
    public FleetDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<FleetDbContext>()
            .UseNpgsql("Host=localhost;Database=fleet_design_time")
            .Options;
        return new FleetDbContext(options);
    }
}
