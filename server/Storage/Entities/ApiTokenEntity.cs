namespace Fleet.Server.Storage.Entities;

/// <summary>A personal API token (table <c>api_tokens</c>) by its SHA-256 hash; the token itself is never stored.</summary>
public sealed class ApiTokenEntity
{
    public long Id { get; set; }

    public required string UserId { get; set; }

    public FleetUserEntity? User { get; set; }

    public required string Name { get; set; }

    public required byte[] TokenHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}
