using Fleet.Server.Security;

namespace Fleet.Server.Access;

/// <summary>
/// Personal API tokens: "fleet_pat_" and 32 random bytes in base64url. Only the SHA-256 of a token is stored; the
/// token is shown once, when made.
/// </summary>
public static class ApiTokenSecrets
{
    public const string Prefix = "fleet_pat_";

    /// <summary>Longer values are refused without hashing them (a made token is 53 characters).</summary>
    public const int MaxLength = 128;

    private static readonly HashedSecrets Secrets = new(Prefix, MaxLength);

    public static (string Token, byte[] Hash) Create() => Secrets.Create();

    public static byte[] Hash(string token) => HashedSecrets.Hash(token);

    /// <summary>Whether the value has the shape of a personal API token (checked before any lookup).</summary>
    public static bool LooksLikeToken(string? value) =>
        value is { Length: > 0 and <= MaxLength } && value.StartsWith(Prefix, StringComparison.Ordinal);
}
