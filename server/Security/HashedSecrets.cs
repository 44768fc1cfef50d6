using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Fleet.Server.Security;

/// <summary>
/// Secrets shown once and stored only as their SHA-256 (enrollment tokens, personal API tokens): a prefix that makes a
/// leaked one recognisable, then 32 random bytes in base64url.
/// </summary>
public sealed class HashedSecrets(string prefix, int maxLength)
{
    private const int RandomBytes = 32;

    public string Prefix { get; } = prefix;

    /// <summary>Longer values are refused without hashing them.</summary>
    public int MaxLength { get; } = maxLength;

    /// <summary>A new secret and the hash to store.</summary>
    public (string Token, byte[] Hash) Create()
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
}
