using System.Net;
using Fleet.Server.Ingest;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Hosting;

/// <summary>
/// The server's two endpoints (configuration section <c>Fleet</c>): <c>Fleet:Http:Url</c>, HTTP/1.1 for the
/// pages and the API, and <c>Fleet:Grpc:Url</c>, HTTP/2 for the agents' stream — https with
/// <c>Fleet:Grpc:Certificate:*</c>, or plaintext h2c where <c>Fleet:Ingest:AllowPlaintext</c> allows it.
/// </summary>
public sealed class FleetEndpointOptions
{
    public const string Section = "Fleet";

    public HttpEndpointOptions Http { get; set; } = new();

    public GrpcEndpointOptions Grpc { get; set; } = new();
}

public sealed class HttpEndpointOptions
{
    public string Url { get; set; } = "http://127.0.0.1:5080";
}

public sealed class GrpcEndpointOptions
{
    public string Url { get; set; } = "http://127.0.0.1:5081";

    public CertificateOptions Certificate { get; set; } = new();
}

/// <summary>The TLS certificate of the gRPC endpoint: a PFX (with its password), or a PEM certificate and key.</summary>
public sealed class CertificateOptions
{
    /// <summary>A .pfx/.p12 file, or a PEM certificate (chain) file.</summary>
    public string? Path { get; set; }

    /// <summary>The PEM private key, when <see cref="Path"/> is a PEM certificate.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PFX password, or the password of an encrypted PEM key.</summary>
    public string? Password { get; set; }
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

/// <summary>Every problem of the endpoints at once, with the key and what is allowed.</summary>
internal sealed class FleetEndpointOptionsValidator(IOptions<IngestOptions> ingest) : IValidateOptions<FleetEndpointOptions>
{
    public ValidateOptionsResult Validate(string? name, FleetEndpointOptions options)
    {
        var errors = new List<string>();
        var http = ParsedEndpoint.TryParse(options.Http.Url, out string? httpProblem);
        if (http is null)
        {
            errors.Add($"Fleet:Http:Url: {httpProblem}");
        }
        else if (http.Https)
        {
            errors.Add($"Fleet:Http:Url: '{options.Http.Url}' is https: the HTTP endpoint serves plain HTTP/1.1 (put a reverse proxy in front for TLS)");
        }

        var grpc = ParsedEndpoint.TryParse(options.Grpc.Url, out string? grpcProblem);
        var cert = options.Grpc.Certificate;
        if (grpc is null)
        {
            errors.Add($"Fleet:Grpc:Url: {grpcProblem}");
        }
        else if (grpc.Https)
        {
            if (string.IsNullOrWhiteSpace(cert.Path))
            {
                errors.Add($"Fleet:Grpc:Certificate:Path: required for the https endpoint '{options.Grpc.Url}' (a .pfx file, or a PEM certificate with Fleet:Grpc:Certificate:KeyPath)");
            }
            else if (!File.Exists(cert.Path))
            {
                errors.Add($"Fleet:Grpc:Certificate:Path: '{cert.Path}' does not exist");
            }
            if (!string.IsNullOrWhiteSpace(cert.KeyPath) && !File.Exists(cert.KeyPath))
            {
                errors.Add($"Fleet:Grpc:Certificate:KeyPath: '{cert.KeyPath}' does not exist");
            }
        }
        else
        {
            bool allowed = ingest.Value.AllowPlaintext ?? grpc.IsLoopback;
            if (!allowed)
            {
                errors.Add(ingest.Value.AllowPlaintext == false
                    ? $"Fleet:Grpc:Url: '{options.Grpc.Url}' is plaintext http, and Fleet:Ingest:AllowPlaintext is false: use https:// with Fleet:Grpc:Certificate:Path"
                    : $"Fleet:Grpc:Url: '{options.Grpc.Url}' is plaintext http on an address that is not loopback, so enrollment tokens would cross the network in clear: "
                      + "use https:// with Fleet:Grpc:Certificate:Path, or set Fleet:Ingest:AllowPlaintext=true (behind a TLS-terminating proxy or on a trusted network)");
            }
            if (!string.IsNullOrWhiteSpace(cert.Path))
            {
                errors.Add($"Fleet:Grpc:Certificate:Path is set but Fleet:Grpc:Url '{options.Grpc.Url}' is http: use https:// to serve TLS");
            }
        }
        if (http is not null && grpc is not null && http.Port != 0 && http.Port == grpc.Port
            && (http.AnyAddress || grpc.AnyAddress || http.Address.Equals(grpc.Address)))
        {
            errors.Add($"Fleet:Grpc:Url: port {grpc.Port} is also Fleet:Http:Url's: the two endpoints need different ports");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
