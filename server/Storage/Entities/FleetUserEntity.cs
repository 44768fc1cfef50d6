using Microsoft.AspNetCore.Identity;

namespace Fleet.Server.Storage.Entities;

/// <summary>
/// A user (table <c>users</c>), through ASP.NET Core Identity: its password hash, security stamp and lockout come from
/// <see cref="IdentityUser"/>; the role is one Identity role (viewer, operator or admin).
/// </summary>
public sealed class FleetUserEntity : IdentityUser
{
    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastSignInAt { get; set; }

    /// <summary>Set when an admin disabled the user: no sign-in, no API token.</summary>
    public DateTimeOffset? DisabledAt { get; set; }

    /// <summary>"local", or the external provider's name for a user made by OpenID Connect sign-in.</summary>
    public string Source { get; set; } = "local";
}
