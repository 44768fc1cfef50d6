using Fleet.Web.Data;

namespace Fleet.Web.Tests.Fakes;

/// <summary>Users in memory with the contract's refusals: a short password, a taken name, an unknown role, the last admin.</summary>
public sealed class FakeUserAdmin(TimeProvider time) : IUserAdmin
{
    public const int MinPasswordLength = 12;

    private readonly Lock _lock = new();
    private readonly List<UserView> _users = [];
    private int _next;

    public List<(string Action, string UserName, string Actor)> Changes { get; } = [];

    public Dictionary<string, string> Passwords { get; } = [];

    public UserView Add(string userName, string role, string source = "local", bool disabled = false, bool lockedOut = false)
    {
        lock (_lock)
        {
            var user = new UserView($"u{++_next}", userName, role, disabled, source, time.GetUtcNow(), null, lockedOut);
            _users.Add(user);
            return user;
        }
    }

    public UserView? Find(string userName)
    {
        lock (_lock)
        {
            return _users.FirstOrDefault(u => u.UserName == userName);
        }
    }

    public Task<IReadOnlyList<UserView>> ListAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<UserView>>([.. _users]);
        }
    }

    public Task<UserView> CreateAsync(string userName, string password, string role, string actor, CancellationToken ct)
    {
        lock (_lock)
        {
            var errors = new Dictionary<string, string[]>();
            if (_users.Any(u => string.Equals(u.UserName, userName, StringComparison.OrdinalIgnoreCase)))
            {
                errors["userName"] = [$"The name {userName} is taken."];
            }
            if (password.Length < MinPasswordLength)
            {
                errors["password"] = [$"Passwords must be at least {MinPasswordLength} characters."];
            }
            if (!FleetRoles.IsKnown(role))
            {
                errors["role"] = [$"Unknown role {role}."];
            }
            if (errors.Count > 0)
            {
                throw new AccessInvalidException(errors);
            }
            var user = new UserView($"u{++_next}", userName, role, false, "local", time.GetUtcNow(), null, false);
            _users.Add(user);
            Passwords[user.Id] = password;
            Changes.Add(("created", userName, actor));
            return Task.FromResult(user);
        }
    }

    public Task<UserView?> SetRoleAsync(string userId, string role, string actor, CancellationToken ct) =>
        Change(userId, actor, "role", u =>
        {
            if (u.Role == FleetRoles.Admin && role != FleetRoles.Admin && LastAdmin(u))
            {
                throw new AccessInvalidException("role", "The last enabled admin keeps the admin role.");
            }
            return u with { Role = role };
        });

    public Task<UserView?> SetPasswordAsync(string userId, string password, string actor, CancellationToken ct) =>
        Change(userId, actor, "password", u =>
        {
            if (password.Length < MinPasswordLength)
            {
                throw new AccessInvalidException("password", $"Passwords must be at least {MinPasswordLength} characters.");
            }
            Passwords[u.Id] = password;
            return u;
        });

    public Task<UserView?> SetDisabledAsync(string userId, bool disabled, string actor, CancellationToken ct) =>
        Change(userId, actor, disabled ? "disabled" : "enabled", u =>
        {
            if (disabled && u.Role == FleetRoles.Admin && LastAdmin(u))
            {
                throw new AccessInvalidException("", "The last enabled admin cannot be disabled.");
            }
            return u with { Disabled = disabled };
        });

    public Task<bool> DeleteAsync(string userId, string actor, CancellationToken ct)
    {
        lock (_lock)
        {
            var user = _users.FirstOrDefault(u => u.Id == userId);
            if (user is null)
            {
                return Task.FromResult(false);
            }
            if (user.Role == FleetRoles.Admin && LastAdmin(user))
            {
                throw new AccessInvalidException("", "The last enabled admin cannot be deleted.");
            }
            _users.Remove(user);
            Changes.Add(("deleted", user.UserName, actor));
            return Task.FromResult(true);
        }
    }

    private bool LastAdmin(UserView user) => !_users.Any(u => u.Id != user.Id && u.Role == FleetRoles.Admin && !u.Disabled);

    private Task<UserView?> Change(string userId, string actor, string action, Func<UserView, UserView> change)
    {
        lock (_lock)
        {
            int i = _users.FindIndex(u => u.Id == userId);
            if (i < 0)
            {
                return Task.FromResult<UserView?>(null);
            }
            var changed = change(_users[i]);
            _users[i] = changed;
            Changes.Add((action, changed.UserName, actor));
            return Task.FromResult<UserView?>(changed);
        }
    }
}
