using Fleet.Server.Security;

namespace Fleet.Server.Ingest;

/// <summary>
/// Enrollment tokens: 32 random bytes, base64url, prefixed "fleet_" so a leaked one is recognisable. The server
/// keeps only the SHA-256 of the token; the token itself is shown once, when it is made.
/// </summary>
public static class EnrollmentTokens
{
    public const string Prefix = "fleet_";

    /// <summary>Longer tokens are refused without hashing them (a made token is 49 characters).</summary>
    public const int MaxLength = 256;

    private static readonly HashedSecrets Secrets = new(Prefix, MaxLength);

    /// <summary>A new token and the hash to store.</summary>
    public static (string Token, byte[] Hash) Create() => Secrets.Create();

    public static byte[] Hash(string token) => HashedSecrets.Hash(token);

    /// <summary>False for what cannot be a token at all (empty, too long): it is refused without a lookup.</summary>
    public static bool IsPlausible(string? token) =>
        !string.IsNullOrWhiteSpace(token) && token.Length <= MaxLength;
}
