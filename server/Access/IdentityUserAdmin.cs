using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Fleet.Server.Access;

/// <summary>
/// Users and their roles through ASP.NET Core Identity's UserManager on PostgreSQL. Each change runs in its own
/// scope and transaction with its audit entry; changes that could leave no enabled admin are serialized by a
/// transaction-level advisory lock and refused.
/// </summary>
internal sealed class IdentityUserAdmin(IServiceScopeFactory scopes, TimeProvider clock) : IUserAdmin
{
    public const string AuditEntity = "user";
    public const string LocalSource = "local";
    public const int MaxUserNameLength = 64;

    /// <summary>pg_advisory_xact_lock key of user changes ("Fleet users").</summary>
    private const long UserChangeLock = 0x466C_6565_7455;

    public async Task<IReadOnlyList<UserView>> ListAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
        var now = clock.GetUtcNow();
        var rows = await db.Users.AsNoTracking()
            .OrderBy(u => u.UserName)
            .Select(u => new
            {
                User = u,
                Role = db.UserRoles.Where(ur => ur.UserId == u.Id).Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => r.Name).FirstOrDefault(),
            })
            .ToListAsync(ct).ConfigureAwait(false);
        return [.. rows.Select(r => View(r.User, r.Role, now))];
    }

    public async Task<UserView> CreateAsync(string userName, string password, string role, string actor, CancellationToken ct)
    {
        userName = (userName ?? "").Trim();
        password ??= "";
        var errors = new Errors();
        if (!FleetRoles.IsKnown(role))
        {
            errors.Add("role", $"one of {string.Join(", ", FleetRoles.All)} (got '{role}')");
        }
        if (userName.Length is 0 or > MaxUserNameLength)
        {
            errors.Add("userName", $"1 to {MaxUserNameLength} characters");
        }
        return await InTransactionAsync(async (users, db) =>
        {
            var now = clock.GetUtcNow();
            var user = new FleetUserEntity { UserName = userName, CreatedAt = now, Source = LocalSource };
            if (userName.Length > 0)
            {
                foreach (var validator in users.UserValidators)
                {
                    errors.Add(await validator.ValidateAsync(users, user).ConfigureAwait(false));
                }
            }
            foreach (var validator in users.PasswordValidators)
            {
                errors.Add(await validator.ValidateAsync(users, user, password).ConfigureAwait(false));
            }
            errors.ThrowIfAny();
            errors.Add(await users.CreateAsync(user, password).ConfigureAwait(false));
            errors.ThrowIfAny();
            errors.Add(await users.AddToRoleAsync(user, role).ConfigureAwait(false));
            errors.ThrowIfAny();
            var view = View(user, role, now);
            db.AuditLog.Add(AuditEntryEntity.Change<UserView>(now, Actor(actor), "created", AuditEntity, user.Id, user.UserName, null, view));
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
            return view;
        }, ct).ConfigureAwait(false);
    }

    public async Task<UserView?> SetRoleAsync(string userId, string role, string actor, CancellationToken ct)
    {
        if (!FleetRoles.IsKnown(role))
        {
            throw new AccessInvalidException("role", $"one of {string.Join(", ", FleetRoles.All)} (got '{role}')");
        }
        return await InTransactionAsync(async (users, db) =>
        {
            if (await users.FindByIdAsync(userId).ConfigureAwait(false) is not { } user)
            {
                return null;
            }
            var now = clock.GetUtcNow();
            var current = await users.GetRolesAsync(user).ConfigureAwait(false);
            var before = View(user, current.FirstOrDefault(), now);
            if (current.Count == 1 && current[0] == role)
            {
                return before;
            }
            if (current.Contains(FleetRoles.Admin) && role != FleetRoles.Admin && user.DisabledAt is null && await EnabledAdminsAsync(db, ct).ConfigureAwait(false) <= 1)
            {
                throw new AccessInvalidException("role", $"{user.UserName} is the last enabled admin: make another user admin first");
            }
            var errors = new Errors();
            if (current.Count > 0)
            {
                errors.Add(await users.RemoveFromRolesAsync(user, current).ConfigureAwait(false));
            }
            errors.Add(await users.AddToRoleAsync(user, role).ConfigureAwait(false));
            errors.ThrowIfAny();
            var after = View(user, role, now);
            db.AuditLog.Add(AuditEntryEntity.Change(now, Actor(actor), "updated", AuditEntity, user.Id, user.UserName, before, after));
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
            return after;
        }, ct).ConfigureAwait(false);
    }

    public async Task<UserView?> SetPasswordAsync(string userId, string password, string actor, CancellationToken ct)
    {
        password ??= "";
        return await InTransactionAsync(async (users, db) =>
        {
            if (await users.FindByIdAsync(userId).ConfigureAwait(false) is not { Source: LocalSource } user)
            {
                return null;
            }
            var errors = new Errors();
            foreach (var validator in users.PasswordValidators)
            {
                errors.Add(await validator.ValidateAsync(users, user, password).ConfigureAwait(false));
            }
            errors.ThrowIfAny();
            // A new hash only: the user's sessions and tokens stay (the security stamp is not changed); a lockout ends.
            user.PasswordHash = users.PasswordHasher.HashPassword(user, password);
            user.AccessFailedCount = 0;
            user.LockoutEnd = null;
            errors.Add(await users.UpdateAsync(user).ConfigureAwait(false));
            errors.ThrowIfAny();
            var now = clock.GetUtcNow();
            var view = View(user, await RoleAsync(users, user).ConfigureAwait(false), now);
            db.AuditLog.Add(AuditEntryEntity.Change<UserView>(now, Actor(actor), "password-set", AuditEntity, user.Id, user.UserName, null, view));
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
            return view;
        }, ct).ConfigureAwait(false);
    }

    public async Task<UserView?> SetDisabledAsync(string userId, bool disabled, string actor, CancellationToken ct)
    {
        return await InTransactionAsync(async (users, db) =>
        {
            if (await users.FindByIdAsync(userId).ConfigureAwait(false) is not { } user)
            {
                return null;
            }
            var now = clock.GetUtcNow();
            string? role = await RoleAsync(users, user).ConfigureAwait(false);
            var before = View(user, role, now);
            if ((user.DisabledAt is not null) == disabled)
            {
                return before;
            }
            if (disabled && role == FleetRoles.Admin && await EnabledAdminsAsync(db, ct).ConfigureAwait(false) <= 1)
            {
                throw new AccessInvalidException("disabled", $"{user.UserName} is the last enabled admin: make another user admin first");
            }
            user.DisabledAt = disabled ? now : null;
            var errors = new Errors();
            // A new stamp ends the user's sessions at their next check (within a minute); tokens check DisabledAt.
            errors.Add(disabled ? await users.UpdateSecurityStampAsync(user).ConfigureAwait(false) : await users.UpdateAsync(user).ConfigureAwait(false));
            errors.ThrowIfAny();
            var after = View(user, role, now);
            db.AuditLog.Add(AuditEntryEntity.Change(now, Actor(actor), disabled ? "disabled" : "enabled", AuditEntity, user.Id, user.UserName, before, after));
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
            return after;
        }, ct).ConfigureAwait(false);
    }

    public async Task<bool> DeleteAsync(string userId, string actor, CancellationToken ct)
    {
        return await InTransactionAsync(async (users, db) =>
        {
            if (await users.FindByIdAsync(userId).ConfigureAwait(false) is not { } user)
            {
                return false;
            }
            var now = clock.GetUtcNow();
            string? role = await RoleAsync(users, user).ConfigureAwait(false);
            if (role == FleetRoles.Admin && user.DisabledAt is null && await EnabledAdminsAsync(db, ct).ConfigureAwait(false) <= 1)
            {
                throw new AccessInvalidException("userId", $"{user.UserName} is the last enabled admin: make another user admin first");
            }
            var before = View(user, role, now);
            // The user's API tokens and logins go with them (foreign keys on delete cascade).
            var errors = new Errors();
            errors.Add(await users.DeleteAsync(user).ConfigureAwait(false));
            errors.ThrowIfAny();
            db.AuditLog.Add(AuditEntryEntity.Change<UserView>(now, Actor(actor), "deleted", AuditEntity, user.Id, user.UserName, before, null));
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="work"/> in a new scope, in one transaction holding the user-change lock.</summary>
    private async Task<T> InTransactionAsync<T>(Func<UserManager<FleetUserEntity>, FleetDbContext, Task<T>> work, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUserEntity>>();
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({UserChangeLock})", ct).ConfigureAwait(false);
        var result = await work(users, db).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return result;
    }

    internal static async Task<int> EnabledAdminsAsync(FleetDbContext db, CancellationToken ct) =>
        await db.UserRoles
            .Join(db.Roles.Where(r => r.Name == FleetRoles.Admin), ur => ur.RoleId, r => r.Id, (ur, r) => ur.UserId)
            .Join(db.Users, id => id, u => u.Id, (id, u) => u)
            .CountAsync(u => u.DisabledAt == null, ct).ConfigureAwait(false);

    private static async Task<string?> RoleAsync(UserManager<FleetUserEntity> users, FleetUserEntity user) =>
        (await users.GetRolesAsync(user).ConfigureAwait(false)).FirstOrDefault();

    internal static UserView View(FleetUserEntity user, string? role, DateTimeOffset now) => new(
        user.Id,
        user.UserName ?? "",
        role ?? "",
        user.DisabledAt is not null,
        user.Source,
        user.CreatedAt,
        user.LastSignInAt,
        user.LockoutEnd is { } end && end > now);

    internal static string Actor(string? actor) =>
        string.IsNullOrWhiteSpace(actor) ? SignedInActor.Unknown : AccessAudit.Clip(actor.Trim());

    /// <summary>Problems by field, from checks and from Identity's results.</summary>
    internal sealed class Errors
    {
        private readonly Dictionary<string, List<string>> _byField = new(StringComparer.Ordinal);

        public void Add(string field, string message)
        {
            if (!_byField.TryGetValue(field, out var list))
            {
                _byField[field] = list = [];
            }
            if (!list.Contains(message))
            {
                list.Add(message);
            }
        }

        public void Add(IdentityResult result)
        {
            foreach (var error in result.Errors)
            {
                Add(FieldOf(error), error.Description);
            }
        }

        public void ThrowIfAny()
        {
            if (_byField.Count > 0)
            {
                throw new AccessInvalidException(_byField.ToDictionary(e => e.Key, e => e.Value.ToArray()));
            }
        }

        private static string FieldOf(IdentityError error) => error.Code switch
        {
            var code when code.StartsWith("Password", StringComparison.Ordinal) => "password",
            "DuplicateUserName" or "InvalidUserName" => "userName",
            var code when code.Contains("Role", StringComparison.Ordinal) => "role",
            _ => "",
        };
    }
}
