using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Fleet.Agent.Streaming;

namespace Fleet.Server.Hosting;

/// <summary>
/// The server's own certificate when none is configured: made on first run (ECDSA P-256, about two years),
/// kept in <c>Fleet:Tls:Directory</c> as <see cref="CertificateFileName"/> (PEM, readable: agents may trust it
/// with --ca-file) and <see cref="KeyFileName"/> (PEM PKCS#8, mode 0600), and used again at every start until
/// it comes within <see cref="RenewBefore"/> of its end, when a new one replaces it.
/// </summary>
public sealed partial class SelfSignedCertificate
{
    public const string CertificateFileName = "fleet-server.pem";
    public const string KeyFileName = "fleet-server.key";

    public static TimeSpan Validity { get; } = TimeSpan.FromDays(730);

    public static TimeSpan RenewBefore { get; } = TimeSpan.FromDays(30);

    /// <summary>How far back the certificate's validity starts, for clocks a little behind the server's.</summary>
    public static TimeSpan Backdate { get; } = TimeSpan.FromHours(1);

    private readonly string _directory;
    private readonly IReadOnlyList<string> _subjectNames;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <param name="subjectNames">Extra DNS names and IP addresses (Fleet:Tls:SubjectNames), already validated.</param>
    public SelfSignedCertificate(string directory, IReadOnlyList<string> subjectNames, TimeProvider time, ILogger logger)
    {
        _directory = directory;
        _subjectNames = subjectNames;
        _time = time;
        _logger = logger;
    }

    public string CertificatePath => Path.Combine(_directory, CertificateFileName);

    public string KeyPath => Path.Combine(_directory, KeyFileName);

    /// <summary>The names the certificate is made for: this machine's host name, localhost, 127.0.0.1, ::1 and the configured ones.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            var names = new List<string> { Dns.GetHostName(), "localhost", "127.0.0.1", "::1" };
            foreach (string name in _subjectNames)
            {
                if (!names.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    names.Add(name);
                }
            }
            return names;
        }
    }

    /// <summary>
    /// The certificate (with its private key) from the folder, made first when there is none, and made again
    /// when it is about to expire or lacks a configured name. Throws <see cref="InvalidOperationException"/>
    /// with what to do when the folder cannot be written or holds files that cannot be read.
    /// </summary>
    public X509Certificate2 LoadOrCreate()
    {
        var now = _time.GetUtcNow();
        bool certificateExists = File.Exists(CertificatePath);
        bool keyExists = File.Exists(KeyPath);
        if (certificateExists && keyExists)
        {
            X509Certificate2 existing;
            try
            {
                existing = X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new InvalidOperationException(
                    $"Fleet:Tls:Directory: cannot read the self-signed certificate {CertificatePath} with its key {KeyPath}: {e.Message.TrimEnd('.')}. "
                    + "Fix their permissions, or move both files away to have a new certificate made (agents pinning the old one must then be updated)", e);
            }
            string? reason = RenewalReason(existing, now);
            if (reason is null)
            {
                WarnIfKeyReadableByOthers();
                return existing;
            }
            string oldFingerprint = ServerFingerprint.Format(ServerFingerprint.Of(existing));
            existing.Dispose();
            var renewed = Create(now);
            LogRenewed(_logger, CertificatePath, reason, ServerFingerprint.Format(ServerFingerprint.Of(renewed)), oldFingerprint);
            return renewed;
        }
        if (certificateExists != keyExists)
        {
            LogHalfPresent(_logger, certificateExists ? CertificatePath : KeyPath, certificateExists ? KeyPath : CertificatePath);
        }
        var made = Create(now);
        string names = string.Join(", ", Names);
        var notAfter = made.NotAfter.ToUniversalTime();
        LogCreated(_logger, CertificatePath, names, notAfter, KeyPath);
        return made;
    }

    /// <summary>Why a stored certificate must be replaced, or null when it serves on.</summary>
    internal string? RenewalReason(X509Certificate2 certificate, DateTimeOffset now)
    {
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        if (now >= notAfter)
        {
            return $"it expired on {notAfter:u}";
        }
        if (notAfter - now < RenewBefore)
        {
            return $"it expires on {notAfter:u}, in under {RenewBefore.TotalDays:0} days";
        }
        if (now < notBefore)
        {
            return $"it is valid only from {notBefore:u} (was the clock wrong when it was made?)";
        }
        var present = SubjectAlternativeNames(certificate);
        var missing = _subjectNames.Where(n => !present.Contains(Normalize(n))).ToList();
        if (missing.Count > 0)
        {
            return $"it does not name {string.Join(", ", missing)} (Fleet:Tls:SubjectNames)";
        }
        return null;
    }

    private X509Certificate2 Create(DateTimeOffset now)
    {
        var names = Names;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationName("Fleet");
        subject.AddCommonName(names[0]);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var san = new SubjectAlternativeNameBuilder();
        foreach (string name in names)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                san.AddIpAddress(address);
            }
            else
            {
                san.AddDnsName(name);
            }
        }
        request.CertificateExtensions.Add(san.Build());
        // A whole second: the certificate's times have no fractions, and tests compare them.
        var notBefore = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero) - Backdate;
        using var made = request.CreateSelfSigned(notBefore, notBefore + Backdate + Validity);
        try
        {
            Directory.CreateDirectory(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            // The key first: a certificate file is never there without its key.
            WriteAtomically(KeyPath, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            WriteAtomically(CertificatePath, made.ExportCertificatePem() + "\n",
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"Fleet:Tls:Directory: cannot keep the self-signed certificate in '{_directory}': {e.Message.TrimEnd('.')}. "
                + "Set Fleet:Tls:Directory to a folder this user may write, or configure a certificate with Fleet:Tls:Certificate:Path", e);
        }
        // Read back what was written: what the next start will serve is what this one serves.
        return X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
    }

    private static void WriteAtomically(string path, string content, UnixFileMode mode)
    {
        string temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = mode,
            }))
            {
                stream.Write(Encoding.ASCII.GetBytes(content));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private void WarnIfKeyReadableByOthers()
    {
        var mode = File.GetUnixFileMode(KeyPath);
        if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
        {
            LogKeyReadable(_logger, KeyPath, Convert.ToString((int)mode, 8));
        }
    }

    /// <summary>The DNS names and IP addresses of the certificate's SAN extension, normalized.</summary>
    internal static HashSet<string> SubjectAlternativeNames(X509Certificate2 certificate)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var extension in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            foreach (string dns in extension.EnumerateDnsNames())
            {
                names.Add(Normalize(dns));
            }
            foreach (var ip in extension.EnumerateIPAddresses())
            {
                names.Add(ip.ToString());
            }
        }
        return names;
    }

    private static string Normalize(string name) => IPAddress.TryParse(name, out var ip) ? ip.ToString() : name.ToLowerInvariant();

    /// <summary>Null when <paramref name="name"/> can be a subject name (DNS name, *.wildcard or IP address), else why not.</summary>
    public static string? SubjectNameProblem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "empty";
        }
        if (IPAddress.TryParse(name, out _))
        {
            return null;
        }
        string host = name.StartsWith("*.", StringComparison.Ordinal) ? name[2..] : name;
        return Uri.CheckHostName(host) == UriHostNameType.Dns && !host.Contains('*', StringComparison.Ordinal)
            ? null
            : $"'{name}' is not a DNS name (such as fleet.example.com or *.example.com) or an IP address";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS: no certificate configured (Fleet:Tls:Certificate:Path): made a self-signed certificate {CertificatePath} for {Names}, valid until {NotAfter:u}; its key is {KeyPath} (mode 0600)")]
    private static partial void LogCreated(ILogger logger, string certificatePath, string names, DateTime notAfter, string keyPath);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS: made a new self-signed certificate {CertificatePath} because {Reason}: its SHA-256 is {Fingerprint} (was {OldFingerprint}); agents pinning the old fingerprint must be updated (--server-fingerprint {Fingerprint}), agents trusting the old file with --ca-file need the new one")]
    private static partial void LogRenewed(ILogger logger, string certificatePath, string reason, string fingerprint, string oldFingerprint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS: {Present} has no {Missing} beside it: making a new self-signed certificate and key")]
    private static partial void LogHalfPresent(ILogger logger, string present, string missing);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS: the private key {KeyPath} has mode {Mode}: other users may read it; chmod 600 it")]
    private static partial void LogKeyReadable(ILogger logger, string keyPath, string mode);
}
