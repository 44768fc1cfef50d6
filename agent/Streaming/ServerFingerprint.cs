using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleet.Agent.Streaming;

/// <summary>
/// The SHA-256 of a certificate's DER encoding, as an agent pins it (<c>--server-fingerprint</c>) and as the
/// server logs it: 64 hexadecimal digits, written in pairs separated by colons ("AB:CD:..."); read with or
/// without the colons, in either case.
/// </summary>
public static class ServerFingerprint
{
    public const int Length = 32;

    /// <summary>The bytes of <paramref name="text"/>, or null with <paramref name="problem"/> saying what is wrong with it.</summary>
    public static byte[]? TryParse(string? text, out string? problem)
    {
        problem = null;
        string trimmed = text?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            problem = "empty: give the server certificate's SHA-256 fingerprint, 64 hexadecimal digits (colons between pairs allowed)";
            return null;
        }
        string digits;
        if (trimmed.Contains(':', StringComparison.Ordinal))
        {
            string[] pairs = trimmed.Split(':');
            if (pairs.Length != Length || pairs.Any(p => p.Length != 2))
            {
                problem = $"'{trimmed}' is not a SHA-256 fingerprint: with colons it is 32 pairs of hexadecimal digits such as AB:CD:...";
                return null;
            }
            digits = string.Concat(pairs);
        }
        else
        {
            digits = trimmed;
        }
        if (digits.Length != Length * 2)
        {
            problem = $"'{trimmed}' has {digits.Length} hexadecimal digits: a SHA-256 fingerprint has 64"
                + (digits.Length == 40 ? " (40 is a SHA-1 thumbprint: take the SHA-256 one)" : "");
            return null;
        }
        if (!digits.All(char.IsAsciiHexDigit))
        {
            problem = $"'{trimmed}' holds characters that are not hexadecimal digits";
            return null;
        }
        return Convert.FromHexString(digits);
    }

    /// <summary>"AB:CD:..." (upper case, colons between pairs).</summary>
    public static string Format(ReadOnlySpan<byte> sha256) =>
        string.Join(':', sha256.ToArray().Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));

    /// <summary>The SHA-256 of the certificate's DER encoding.</summary>
    public static byte[] Of(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.GetCertHash(HashAlgorithmName.SHA256);
    }
}

/// <summary>
/// How the agent checks the server's certificate on each TLS handshake, and what it refused last (for the stream
/// client to say). With a pin, the leaf the server presents must have that SHA-256, whatever its chain or names
/// (that is the point of pinning a self-signed certificate); any other refuses the handshake, so nothing (not
/// the enrollment token in Hello) is sent to that server. Without one, the platform's verdict stands (system
/// roots, or the CA bundle's chain policy) and a refusal is only noted.
/// </summary>
internal sealed class ServerCertificateCheck
{
    private readonly byte[]? _pin;
    private Refusal? _refused;

    public ServerCertificateCheck(byte[]? pin)
    {
        _pin = pin;
        Pinned = pin is null ? null : ServerFingerprint.Format(pin);
    }

    /// <summary>"AB:CD:...", or null without a pin.</summary>
    public string? Pinned { get; }

    /// <summary>A RemoteCertificateValidationCallback.</summary>
    public bool Check(X509Certificate? presented, SslPolicyErrors errors)
    {
        string fingerprint = presented is null ? "(none)" : ServerFingerprint.Format(ServerFingerprint.Of(presented));
        if (_pin is not null)
        {
            if (presented is not null && CryptographicOperations.FixedTimeEquals(ServerFingerprint.Of(presented), _pin))
            {
                return true;
            }
            Volatile.Write(ref _refused, new Refusal(fingerprint, SslPolicyErrors.None));
            return false;
        }
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        Volatile.Write(ref _refused, new Refusal(fingerprint, errors));
        return false;
    }

    /// <summary>The certificate refused since the last call (fingerprint, and without a pin the platform's errors), or null.</summary>
    public Refusal? TakeRefused() => Interlocked.Exchange(ref _refused, null);

    internal sealed record Refusal(string Fingerprint, SslPolicyErrors Errors);
}
