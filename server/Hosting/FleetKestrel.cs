using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Hosting;

/// <summary>
/// The two Kestrel endpoints from <see cref="FleetEndpointOptions"/>: HTTP/1.1 for the pages and the API,
/// HTTP/2 only for gRPC (h2c needs an endpoint that speaks HTTP/2 alone; with TLS, ALPN picks h2). Once the
/// server listens, <see cref="GrpcAddress"/> and <see cref="HttpAddress"/> tell the bound addresses (with the
/// real port when 0 was configured).
/// </summary>
public sealed class FleetEndpoints
{
    private ListenOptions? _http;
    private ListenOptions? _grpc;
    private ParsedEndpoint? _httpEndpoint;
    private ParsedEndpoint? _grpcEndpoint;

    /// <summary>Where the API and pages listen, once the server started.</summary>
    public Uri? HttpAddress => Address(_http, _httpEndpoint);

    /// <summary>Where the agents' stream listens, once the server started.</summary>
    public Uri? GrpcAddress => Address(_grpc, _grpcEndpoint);

    internal void Configure(KestrelServerOptions kestrel, FleetEndpointOptions options)
    {
        // Validated on start (FleetEndpointOptionsValidator); a bad URL never reaches here.
        _httpEndpoint = ParsedEndpoint.TryParse(options.Http.Url, out _) ?? throw new OptionsValidationException(nameof(FleetEndpointOptions), typeof(FleetEndpointOptions), ["Fleet:Http:Url is invalid"]);
        _grpcEndpoint = ParsedEndpoint.TryParse(options.Grpc.Url, out _) ?? throw new OptionsValidationException(nameof(FleetEndpointOptions), typeof(FleetEndpointOptions), ["Fleet:Grpc:Url is invalid"]);
        var grpcEndpoint = _grpcEndpoint;
        var certificate = options.Grpc.Certificate;

        kestrel.Listen(Bindable(_httpEndpoint), listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            _http = listen;
        });
        kestrel.Listen(Bindable(grpcEndpoint), listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (grpcEndpoint.Https)
            {
                listen.UseHttps(LoadCertificate(certificate));
            }
            _grpc = listen;
        });
    }

    /// <summary>0.0.0.0 binds IPv4 only; "*" and "0.0.0.0" both mean every address, so bind the dual-mode IPv6 any.</summary>
    private static IPEndPoint Bindable(ParsedEndpoint endpoint) =>
        new(endpoint.AnyAddress && System.Net.Sockets.Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : endpoint.Address, endpoint.Port);

    internal static X509Certificate2 LoadCertificate(CertificateOptions options)
    {
        string path = options.Path ?? throw new InvalidOperationException("Fleet:Grpc:Certificate:Path is required for https");
        if (!string.IsNullOrWhiteSpace(options.KeyPath))
        {
            return string.IsNullOrEmpty(options.Password)
                ? X509Certificate2.CreateFromPemFile(path, options.KeyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(path, options.Password, options.KeyPath);
        }
        return X509CertificateLoader.LoadPkcs12FromFile(path, options.Password);
    }

    private static Uri? Address(ListenOptions? listen, ParsedEndpoint? configured)
    {
        if (listen?.IPEndPoint is not { } bound || configured is null || bound.Port == 0)
        {
            return null;
        }
        // An "any" endpoint is reached on loopback from this machine.
        var address = configured.AnyAddress ? IPAddress.Loopback : configured.Address;
        string host = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return new Uri($"{(configured.Https ? "https" : "http")}://{host}:{bound.Port}");
    }
}

internal static class FleetKestrelExtensions
{
    public static IServiceCollection AddFleetEndpoints(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<FleetEndpointOptions>().Bind(configuration.GetSection(FleetEndpointOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FleetEndpointOptions>, FleetEndpointOptionsValidator>();
        services.AddSingleton<FleetEndpoints>();
        services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<FleetEndpointOptions>, FleetEndpoints>((kestrel, options, endpoints) => endpoints.Configure(kestrel, options.Value));
        return services;
    }
}
