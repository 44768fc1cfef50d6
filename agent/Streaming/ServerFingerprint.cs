using System.Globalization;
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
/// The pinned server certificate: the leaf the server presents must have this SHA-256, whatever its chain or
/// names (that is the point of pinning a self-signed certificate); any other certificate refuses the TLS
/// handshake, so nothing (not the enrollment token in Hello) is sent to that server. The last refused
/// certificate is kept for the stream client to report.
/// </summary>
internal sealed class ServerCertificatePin
{
    private readonly byte[] _expected;
    private string? _refused;

    public ServerCertificatePin(byte[] expected)
    {
        _expected = expected;
        Expected = ServerFingerprint.Format(expected);
    }

    /// <summary>"AB:CD:..."</summary>
    public string Expected { get; }

    /// <summary>A RemoteCertificateValidationCallback: true only for the pinned certificate.</summary>
    public bool Check(X509Certificate? presented)
    {
        if (presented is null)
        {
            Volatile.Write(ref _refused, "(none)");
            return false;
        }
        byte[] actual = ServerFingerprint.Of(presented);
        if (CryptographicOperations.FixedTimeEquals(actual, _expected))
        {
            return true;
        }
        Volatile.Write(ref _refused, ServerFingerprint.Format(actual));
        return false;
    }

    /// <summary>The fingerprint of the certificate refused since the last call, or null.</summary>
    public string? TakeRefused() => Interlocked.Exchange(ref _refused, null);
}
