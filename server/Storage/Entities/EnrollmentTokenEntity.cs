namespace Fleet.Server.Storage.Entities;

/// <summary>An enrollment token by its SHA-256 hash; the token itself is never stored.</summary>
public sealed class EnrollmentTokenEntity
{
    public long Id { get; set; }

    public required string Name { get; set; }

    public required byte[] TokenHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>Who made it: a user's name, or "command line" for <c>tokens create</c>.</summary>
    public string? CreatedBy { get; set; }
}
