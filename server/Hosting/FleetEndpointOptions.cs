using System.Net;
using Fleet.Server.Ingest;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Hosting;

/// <summary>
/// The server's two endpoints (configuration section <c>Fleet</c>): <c>Fleet:Http:Url</c>, HTTP/1.1 for the
/// pages and the API, and <c>Fleet:Grpc:Url</c>, HTTP/2 for the agents' stream. With a database configured both
/// default to https on every address (<see cref="SecureHttpUrl"/>, <see cref="SecureGrpcUrl"/>) with the
/// certificate of <c>Fleet:Tls</c> (or a self-signed one made on first run); the one-command mode keeps plain
/// http on 127.0.0.1 (<see cref="LocalHttpUrl"/>, <see cref="LocalGrpcUrl"/>). Plaintext off loopback only where
/// <c>Fleet:Http:AllowPlaintext</c> / <c>Fleet:Ingest:AllowPlaintext</c> allow it.
/// </summary>
public sealed class FleetEndpointOptions
{
    public const string Section = "Fleet";

    public const string SecureHttpUrl = "https://*:5080";
    public const string SecureGrpcUrl = "https://*:5081";
    public const string LocalHttpUrl = "http://127.0.0.1:5080";
    public const string LocalGrpcUrl = "http://127.0.0.1:5081";

    public HttpEndpointOptions Http { get; set; } = new();

    public GrpcEndpointOptions Grpc { get; set; } = new();

    public TlsOptions Tls { get; set; } = new();
}

public sealed class HttpEndpointOptions
{
    public string Url { get; set; } = FleetEndpointOptions.SecureHttpUrl;

    /// <summary>
    /// Whether the HTTP endpoint may listen without TLS. Unset: allowed only on a loopback address. Set it
    /// behind a TLS-terminating reverse proxy, where the proxy serves https to the browsers.
    /// </summary>
    public bool? AllowPlaintext { get; set; }

    /// <summary>
    /// Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: IP addresses or networks
    /// ("10.0.0.5", "10.0.0.0/8"). Then sign-in rate limits and the audit log see the browser's address, not the
    /// proxy's. Empty (the default): the headers are ignored, since anyone could send them.
    /// </summary>
    public IList<string> TrustedProxies { get; } = [];

    /// <summary>The trusted proxies as networks (a lone address is a /32 or /128); null with the problem when one is not.</summary>
    public static IReadOnlyList<IPNetwork>? ParseProxies(IEnumerable<string> entries, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(entries);
        problem = null;
        var networks = new List<IPNetwork>();
        int i = 0;
        foreach (string entry in entries)
        {
            string text = entry?.Trim() ?? "";
            if (IPNetwork.TryParse(text, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(text, out var address))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32));
            }
            else
            {
                problem = $"Fleet:Http:TrustedProxies:{i}: '{entry}' is not an IP address or network such as 10.0.0.5 or 10.0.0.0/8";
                return null;
            }
            i++;
        }
        return networks;
    }
}

public sealed class GrpcEndpointOptions
{
    public string Url { get; set; } = FleetEndpointOptions.SecureGrpcUrl;

    /// <summary>The gRPC endpoint's own certificate; when unset it serves <c>Fleet:Tls</c>'s.</summary>
    public CertificateOptions Certificate { get; set; } = new();
}

/// <summary>
/// The certificate the https endpoints serve (section <c>Fleet:Tls</c>): the configured one, or else a
/// self-signed one made on first run and kept in <see cref="Directory"/>.
/// </summary>
public sealed class TlsOptions
{
    public CertificateOptions Certificate { get; set; } = new();

    /// <summary>Where the self-signed certificate is kept; default /var/lib/fleet/tls as root, else ~/.local/share/fleet/tls.</summary>
    public string? Directory { get; set; }

    /// <summary>
    /// More names for the self-signed certificate (DNS names such as fleet.example.com, or IP addresses), beside
    /// the machine's host name, localhost, 127.0.0.1 and ::1. An entry may list several, separated by commas.
    /// </summary>
    public List<string> SubjectNames { get; set; } = [];

    public string ResolvedDirectory => string.IsNullOrWhiteSpace(Directory) ? Path.Combine(FleetPaths.DataRoot(), "tls") : Path.GetFullPath(Directory);

    /// <summary>Every configured subject name, comma-separated entries split, blanks dropped.</summary>
    public IReadOnlyList<string> ResolvedSubjectNames =>
        SubjectNames.SelectMany(n => (n ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
}

/// <summary>A configured TLS certificate: a PFX (with its password), or a PEM certificate (chain) and key.</summary>
public sealed class CertificateOptions
{
    /// <summary>A .pfx/.p12 file, or a PEM certificate (chain) file.</summary>
    public string? Path { get; set; }

    /// <summary>The PEM private key, when <see cref="Path"/> is a PEM certificate.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PFX password, or the password of an encrypted PEM key.</summary>
    public string? Password { get; set; }

    public bool IsSet => !string.IsNullOrWhiteSpace(Path);
}

/// <summary>An endpoint URL taken apart: scheme, address to bind and port.</summary>
public sealed record ParsedEndpoint(bool Https, IPAddress Address, int Port, bool AnyAddress)
{
    public bool IsLoopback => IPAddress.IsLoopback(Address);

    /// <summary>"http://host:port" or null with the problem: host must be an IP address, localhost, * or 0.0.0.0.</summary>
    public static ParsedEndpoint? TryParse(string? url, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            problem = "required (such as http://127.0.0.1:5080)";
            return null;
        }
        // Uri cannot take "*" or "+" as a host: they mean every address.
        string normalized = url.Trim().Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            problem = $"'{url}' is not an http:// or https:// URL such as http://127.0.0.1:5080";
            return null;
        }
        if (uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query))
        {
            problem = $"'{url}' has a path: give scheme, address and port only";
            return null;
        }
        IPAddress address;
        if (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(uri.DnsSafeHost, out address!))
        {
            problem = $"'{url}': the host must be an IP address, localhost, * or 0.0.0.0, not the name '{uri.Host}'";
            return null;
        }
        bool any = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
        return new ParsedEndpoint(uri.Scheme == Uri.UriSchemeHttps, address, uri.Port, any);
    }
}

/// <summary>Every problem of the endpoints and their certificates at once, with the key and what is allowed.</summary>
internal sealed class FleetEndpointOptionsValidator(IOptions<IngestOptions> ingest, TimeProvider time) : IValidateOptions<FleetEndpointOptions>
{
    public const string TlsCertificateKey = "Fleet:Tls:Certificate";
    public const string GrpcCertificateKey = "Fleet:Grpc:Certificate";

    public ValidateOptionsResult Validate(string? name, FleetEndpointOptions options)
    {
        var errors = new List<string>();
        if (HttpEndpointOptions.ParseProxies(options.Http.TrustedProxies, out string? proxyProblem) is null)
        {
            errors.Add(proxyProblem!);
        }
        var http = ParsedEndpoint.TryParse(options.Http.Url, out string? httpProblem);
        if (http is null)
        {
            errors.Add($"Fleet:Http:Url: {httpProblem}");
        }
        else if (!http.Https && !(options.Http.AllowPlaintext ?? http.IsLoopback))
        {
            errors.Add(options.Http.AllowPlaintext == false
                ? $"Fleet:Http:Url: '{options.Http.Url}' is plaintext http, and Fleet:Http:AllowPlaintext is false: use https:// (with {TlsCertificateKey}:Path, or the self-signed certificate made on first run)"
                : $"Fleet:Http:Url: '{options.Http.Url}' is plaintext http on an address that is not loopback, so passwords and session cookies would cross the network in clear: "
                  + $"use https:// (with {TlsCertificateKey}:Path, or the self-signed certificate made on first run), or set Fleet:Http:AllowPlaintext=true behind a TLS-terminating proxy");
        }

        var grpc = ParsedEndpoint.TryParse(options.Grpc.Url, out string? grpcProblem);
        var grpcCertificate = options.Grpc.Certificate;
        if (grpc is null)
        {
            errors.Add($"Fleet:Grpc:Url: {grpcProblem}");
        }
        else if (!grpc.Https)
        {
            bool allowed = ingest.Value.AllowPlaintext ?? grpc.IsLoopback;
            if (!allowed)
            {
                errors.Add(ingest.Value.AllowPlaintext == false
                    ? $"Fleet:Grpc:Url: '{options.Grpc.Url}' is plaintext http, and Fleet:Ingest:AllowPlaintext is false: use https:// (with {TlsCertificateKey}:Path, or the self-signed certificate made on first run)"
                    : $"Fleet:Grpc:Url: '{options.Grpc.Url}' is plaintext http on an address that is not loopback, so enrollment tokens would cross the network in clear: "
                      + $"use https:// (with {TlsCertificateKey}:Path, or the self-signed certificate made on first run), or set Fleet:Ingest:AllowPlaintext=true (behind a TLS-terminating proxy or on a trusted network)");
            }
            if (grpcCertificate.IsSet)
            {
                errors.Add($"{GrpcCertificateKey}:Path is set but Fleet:Grpc:Url '{options.Grpc.Url}' is http: use https:// to serve TLS");
            }
        }
        if (http is not null && grpc is not null && http.Port != 0 && http.Port == grpc.Port
            && (http.AnyAddress || grpc.AnyAddress || http.Address.Equals(grpc.Address)))
        {
            errors.Add($"Fleet:Grpc:Url: port {grpc.Port} is also Fleet:Http:Url's: the two endpoints need different ports");
        }

        var now = time.GetUtcNow();
        CheckCertificate(options.Tls.Certificate, TlsCertificateKey, now, errors);
        CheckCertificate(grpcCertificate, GrpcCertificateKey, now, errors);
        if (options.Tls.Directory is { Length: > 0 } directory && !Path.IsPathRooted(directory))
        {
            errors.Add($"Fleet:Tls:Directory: '{directory}' is not an absolute path");
        }
        var subjectNames = options.Tls.ResolvedSubjectNames;
        for (int i = 0; i < subjectNames.Count; i++)
        {
            if (SelfSignedCertificate.SubjectNameProblem(subjectNames[i]) is { } problem)
            {
                errors.Add($"Fleet:Tls:SubjectNames: {problem}");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>A configured certificate must exist, open, hold its private key and be valid now.</summary>
    private static void CheckCertificate(CertificateOptions certificate, string key, DateTimeOffset now, List<string> errors)
    {
        if (!certificate.IsSet)
        {
            if (!string.IsNullOrWhiteSpace(certificate.KeyPath))
            {
                errors.Add($"{key}:KeyPath is set without {key}:Path (the PEM certificate it belongs to)");
            }
            return;
        }
        bool missing = false;
        if (!File.Exists(certificate.Path))
        {
            errors.Add($"{key}:Path: '{certificate.Path}' does not exist");
            missing = true;
        }
        if (!string.IsNullOrWhiteSpace(certificate.KeyPath) && !File.Exists(certificate.KeyPath))
        {
            errors.Add($"{key}:KeyPath: '{certificate.KeyPath}' does not exist");
            missing = true;
        }
        if (missing)
        {
            return;
        }
        try
        {
            using var loaded = ServerCertificates.Load(certificate, key);
            if (ServerCertificates.ValidityProblem(loaded.Leaf, now) is { } problem)
            {
                errors.Add($"{key}:Path: '{certificate.Path}' {problem}");
            }
        }
        catch (InvalidOperationException e)
        {
            errors.Add(e.Message);
        }
    }
}
