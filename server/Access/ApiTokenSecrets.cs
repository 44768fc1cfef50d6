using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

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

    private const int RandomBytes = 32;

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

    /// <summary>Whether the value has the shape of a personal API token (checked before any lookup).</summary>
    public static bool LooksLikeToken(string? value) =>
        value is { Length: > 0 and <= MaxLength } && value.StartsWith(Prefix, StringComparison.Ordinal);
}
