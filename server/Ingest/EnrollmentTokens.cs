using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

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

    private const int RandomBytes = 32;

    /// <summary>A new token and the hash to store.</summary>
    public static (string Token, byte[] Hash) Create()
    {
        Span<byte> random = stackalloc byte[RandomBytes];
        RandomNumberGenerator.Fill(random);
        string token = Prefix + Base64Url.EncodeToString(random);
        return (token, Hash(token));
    }

    public static byte[] Hash(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    /// <summary>False for what cannot be a token at all (empty, too long): it is refused without a lookup.</summary>
    public static bool IsPlausible(string? token) =>
        !string.IsNullOrWhiteSpace(token) && token.Length <= MaxLength;
}
