using Fleet.Server.Storage.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Fleet.Server.Storage;

/// <summary>
/// The relational model (hosts, agents, service instances, enrollment tokens, settings, the audit log, and the users,
/// roles and API tokens of sign-in through ASP.NET Core Identity). The time series are not in the model: they are
/// partitioned tables made by the migrations with SQL and written with binary COPY.
/// </summary>
public sealed class FleetDbContext(DbContextOptions<FleetDbContext> options) : IdentityDbContext<FleetUserEntity>(options)
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

    public DbSet<ApiTokenEntity> ApiTokens => Set<ApiTokenEntity>();

    public DbSet<AlertSilenceEntity> AlertSilences => Set<AlertSilenceEntity>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        // Identity's own model first (users, roles, claims, logins), under snake_case table names like the rest.
        base.OnModelCreating(builder);
        builder.Entity<FleetUserEntity>(b =>
        {
            b.ToTable("users");
            b.Property(u => u.CreatedAt).HasColumnName("created_at");
            b.Property(u => u.LastSignInAt).HasColumnName("last_sign_in_at");
            b.Property(u => u.DisabledAt).HasColumnName("disabled_at");
            b.Property(u => u.Source).HasColumnName("source").IsRequired();
        });
        // The three roles are data of the schema: fixed ids and stamps, so the migration seeds them once.
        builder.Entity<IdentityRole>().ToTable("roles").HasData(Fleet.Web.Data.FleetRoles.All.Select(role => new IdentityRole
        {
            Id = role,
            Name = role,
            NormalizedName = role.ToUpperInvariant(),
            ConcurrencyStamp = role,
        }));
        builder.Entity<IdentityUserRole<string>>().ToTable("user_roles");
        builder.Entity<IdentityUserClaim<string>>().ToTable("user_claims");
        builder.Entity<IdentityUserLogin<string>>().ToTable("user_logins");
        builder.Entity<IdentityUserToken<string>>().ToTable("user_tokens");
        builder.Entity<IdentityRoleClaim<string>>().ToTable("role_claims");
        builder.ApplyConfigurationsFromAssembly(typeof(FleetDbContext).Assembly, t => t.Namespace == typeof(Configurations.HostConfiguration).Namespace);
    }
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
