using System.Net;
using System.Security.Cryptography.X509Certificates;
using Fleet.Agent.Streaming;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Hosting;

/// <summary>
/// The two Kestrel endpoints from <see cref="FleetEndpointOptions"/>: HTTP/1.1 for the pages and the API
/// (with TLS, ALPN http/1.1), HTTP/2 only for gRPC (h2c needs an endpoint that speaks HTTP/2 alone; with TLS,
/// ALPN picks h2). An https endpoint serves <c>Fleet:Tls:Certificate</c> (<c>Fleet:Grpc:Certificate</c>
/// overrides it for gRPC, and serves HTTP too when it is the only one configured), else the self-signed
/// certificate of <c>Fleet:Tls:Directory</c>, made on first run. Once the server listens, <see cref="GrpcAddress"/> and <see cref="HttpAddress"/> tell the bound
/// addresses (with the real port when 0 was configured).
/// </summary>
public sealed partial class FleetEndpoints(ILogger<FleetEndpoints> logger, TimeProvider time)
{
    private ListenOptions? _http;
    private ListenOptions? _grpc;
    private ParsedEndpoint? _httpEndpoint;
    private ParsedEndpoint? _grpcEndpoint;

    /// <summary>Where the API and pages listen, once the server started.</summary>
    public Uri? HttpAddress => Address(_http, _httpEndpoint);

    /// <summary>Where the agents' stream listens, once the server started.</summary>
    public Uri? GrpcAddress => Address(_grpc, _grpcEndpoint);

    /// <summary>The certificate the HTTP endpoint serves; null when it is plain http.</summary>
    public ServedCertificate? HttpCertificate { get; private set; }

    /// <summary>The certificate the gRPC endpoint serves (agents pin its <see cref="ServedCertificate.Fingerprint"/>); null when it is plain http.</summary>
    public ServedCertificate? GrpcCertificate { get; private set; }

    internal void Configure(KestrelServerOptions kestrel, FleetEndpointOptions options)
    {
        // Validated on start (FleetEndpointOptionsValidator); a bad URL or certificate never reaches here.
        _httpEndpoint = ParsedEndpoint.TryParse(options.Http.Url, out _) ?? throw new OptionsValidationException(nameof(FleetEndpointOptions), typeof(FleetEndpointOptions), ["Fleet:Http:Url is invalid"]);
        _grpcEndpoint = ParsedEndpoint.TryParse(options.Grpc.Url, out _) ?? throw new OptionsValidationException(nameof(FleetEndpointOptions), typeof(FleetEndpointOptions), ["Fleet:Grpc:Url is invalid"]);
        var httpEndpoint = _httpEndpoint;
        var grpcEndpoint = _grpcEndpoint;

        // Each certificate loaded (or made) once, and only when an https endpoint serves it. The HTTP endpoint
        // serves Fleet:Tls's, else the gRPC one's (a deployment configured before Fleet:Tls existed), else
        // the self-signed one; the gRPC endpoint its own, else Fleet:Tls's, else the self-signed one.
        ServedCertificate? tls = null, grpcOwn = null, selfSigned = null;
        ServedCertificate Tls() => tls ??= Configured(options.Tls.Certificate, FleetEndpointOptionsValidator.TlsCertificateKey);
        ServedCertificate GrpcOwn() => grpcOwn ??= Configured(options.Grpc.Certificate, FleetEndpointOptionsValidator.GrpcCertificateKey);
        ServedCertificate SelfSignedOne() => selfSigned ??= SelfSigned(options.Tls);
        HttpCertificate = !httpEndpoint.Https ? null
            : options.Tls.Certificate.IsSet ? Tls()
            : options.Grpc.Certificate.IsSet && grpcEndpoint.Https ? GrpcOwn()
            : SelfSignedOne();
        GrpcCertificate = !grpcEndpoint.Https ? null
            : options.Grpc.Certificate.IsSet ? GrpcOwn()
            : options.Tls.Certificate.IsSet ? Tls()
            : SelfSignedOne();
        var httpCertificate = HttpCertificate;
        var grpcCertificate = GrpcCertificate;

        kestrel.Listen(Bindable(httpEndpoint), listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            if (httpCertificate is not null)
            {
                listen.UseHttps(httpCertificate.HttpsOptions());
            }
            _http = listen;
        });
        kestrel.Listen(Bindable(grpcEndpoint), listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (grpcCertificate is not null)
            {
                listen.UseHttps(grpcCertificate.HttpsOptions());
            }
            _grpc = listen;
        });
        LogCertificates(options);
    }

    private ServedCertificate Configured(CertificateOptions certificate, string key)
    {
        var loaded = ServerCertificates.Load(certificate, key);
        var served = new ServedCertificate(loaded.Leaf, loaded.Chain, SelfSigned: false, PemPath: null, Source: $"{key}:Path {certificate.Path}");
        var notAfter = new DateTimeOffset(loaded.Leaf.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        if (notAfter - time.GetUtcNow() < SelfSignedCertificate.RenewBefore)
        {
            LogConfiguredExpiresSoon(logger, certificate.Path!, notAfter.UtcDateTime, key);
        }
        return served;
    }

    private ServedCertificate SelfSigned(TlsOptions tls)
    {
        var store = new SelfSignedCertificate(tls.ResolvedDirectory, tls.ResolvedSubjectNames, time, logger);
        var certificate = store.LoadOrCreate();
        return new ServedCertificate(certificate, [], SelfSigned: true, PemPath: store.CertificatePath, Source: $"the self-signed {store.CertificatePath}");
    }

    private void LogCertificates(FleetEndpointOptions options)
    {
        var served = new[] { (Name: "HTTP", Certificate: HttpCertificate), (Name: "gRPC", Certificate: GrpcCertificate) }
            .Where(e => e.Certificate is not null)
            .GroupBy(e => e.Certificate!);
        foreach (var group in served)
        {
            var certificate = group.Key;
            string endpoints = "the " + string.Join(" and ", group.Select(e => e.Name)) + (group.Count() > 1 ? " endpoints serve" : " endpoint serves");
            var notAfter = certificate.Leaf.NotAfter.ToUniversalTime();
            LogServing(logger, endpoints, certificate.Source, certificate.Fingerprint, notAfter);
        }
        if (GrpcCertificate is { } grpc && AgentServerUrl() is { } server)
        {
            if (grpc.PemPath is { } pem)
            {
                LogPinSelfSigned(logger, server, grpc.Fingerprint, pem);
            }
            else
            {
                LogPinConfigured(logger, server, grpc.Fingerprint);
            }
        }
        if (HttpCertificate is null && _httpEndpoint is { IsLoopback: false })
        {
            LogPlaintextHttp(logger, options.Http.Url);
        }
    }

    /// <summary>
    /// The stream's URL as agents on other hosts write it: the host's name for an any-address endpoint, else the bound
    /// address, with the configured port (the bound one when it was 0); null before the server is configured.
    /// </summary>
    public string? AgentServerUrl()
    {
        if (_grpcEndpoint is not { } endpoint)
        {
            return null;
        }
        string host = endpoint.AnyAddress ? System.Net.Dns.GetHostName() : HostText(endpoint.Address);
        int port = endpoint.Port != 0 ? endpoint.Port : GrpcAddress?.Port ?? 0;
        return $"{(endpoint.Https ? "https" : "http")}://{host}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>The <c>fleet-agent run</c> line the enrollment page prints: this server's stream and its pin.</summary>
    public Fleet.Web.Data.AgentEndpointHint AgentHint() => AgentServerUrl() is { } server
        ? new(server, GrpcCertificate is { } grpc ? $"--server-fingerprint {grpc.Fingerprint}" : null)
        : Fleet.Web.Data.AgentEndpointHint.Placeholder;

    /// <summary>0.0.0.0 binds IPv4 only; "*" and "0.0.0.0" both mean every address, so bind the dual-mode IPv6 any.</summary>
    private static IPEndPoint Bindable(ParsedEndpoint endpoint) =>
        new(endpoint.AnyAddress && System.Net.Sockets.Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : endpoint.Address, endpoint.Port);

    private static string HostText(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    private static Uri? Address(ListenOptions? listen, ParsedEndpoint? configured)
    {
        if (listen?.IPEndPoint is not { } bound || configured is null || bound.Port == 0)
        {
            return null;
        }
        // An "any" endpoint is reached on loopback from this machine.
        var address = configured.AnyAddress ? IPAddress.Loopback : configured.Address;
        return new Uri($"{(configured.Https ? "https" : "http")}://{HostText(address)}:{bound.Port}");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS: {Endpoints} {Source}, SHA-256 {Fingerprint}, valid until {NotAfter:u}")]
    private static partial void LogServing(ILogger logger, string endpoints, string source, string fingerprint, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS: agents trust this server with: fleet-agent run --server {Server} --server-fingerprint {Fingerprint} ... (or --ca-file with a copy of {PemPath})")]
    private static partial void LogPinSelfSigned(ILogger logger, string server, string fingerprint, string pemPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS: agents reach this server with: fleet-agent run --server {Server} ... (trusting its CA, with --ca-file if it is private), or pin it with --server-fingerprint {Fingerprint}")]
    private static partial void LogPinConfigured(ILogger logger, string server, string fingerprint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS: the certificate {Path} ({Key}:Path) expires on {NotAfter:u}, in under 30 days: renew it")]
    private static partial void LogConfiguredExpiresSoon(ILogger logger, string path, DateTime notAfter, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The HTTP endpoint {Url} serves plain http off loopback (Fleet:Http:AllowPlaintext): it must sit behind a TLS-terminating proxy")]
    private static partial void LogPlaintextHttp(ILogger logger, string url);
}

/// <summary>A certificate an https endpoint serves: its leaf (with the private key), the rest of its chain, and where it came from.</summary>
public sealed record ServedCertificate(X509Certificate2 Leaf, X509Certificate2Collection Chain, bool SelfSigned, string? PemPath, string Source)
{
    /// <summary>The SHA-256 of the leaf's DER encoding, "AB:CD:..." (what agents pin).</summary>
    public string Fingerprint { get; } = ServerFingerprint.Format(ServerFingerprint.Of(Leaf));

    internal HttpsConnectionAdapterOptions HttpsOptions() => new()
    {
        ServerCertificate = Leaf,
        ServerCertificateChain = Chain.Count > 0 ? Chain : null,
    };
}

/// <summary>Configured certificates: loading (PFX, or PEM with its key) and the validity check done at start.</summary>
internal static class ServerCertificates
{
    /// <summary>Throws <see cref="InvalidOperationException"/> naming <paramref name="key"/> when the files cannot be used.</summary>
    public static LoadedCertificate Load(CertificateOptions options, string key)
    {
        string path = options.Path ?? throw new InvalidOperationException($"{key}:Path is required");
        try
        {
            X509Certificate2 leaf;
            var chain = new X509Certificate2Collection();
            bool pem = !string.IsNullOrWhiteSpace(options.KeyPath) || LooksLikePem(path);
            if (pem)
            {
                // A PEM certificate (chain) with its key beside it, or in the same file.
                string keyPath = string.IsNullOrWhiteSpace(options.KeyPath) ? path : options.KeyPath;
                leaf = string.IsNullOrEmpty(options.Password)
                    ? X509Certificate2.CreateFromPemFile(path, keyPath)
                    : X509Certificate2.CreateFromEncryptedPemFile(path, options.Password, keyPath);
                var all = new X509Certificate2Collection();
                all.ImportFromPemFile(path);
                foreach (var other in all.Skip(1))
                {
                    chain.Add(other);
                }
                all[0].Dispose();
            }
            else
            {
                var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, options.Password);
                leaf = all.FirstOrDefault(c => c.HasPrivateKey) ?? throw new InvalidOperationException($"{key}:Path: '{path}' holds no private key");
                foreach (var other in all.Where(c => !ReferenceEquals(c, leaf)))
                {
                    chain.Add(other);
                }
            }
            if (!leaf.HasPrivateKey)
            {
                throw new InvalidOperationException($"{key}:Path: '{path}' holds no private key");
            }
            return new LoadedCertificate(leaf, chain);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"{key}:Path: cannot use '{path}'{(string.IsNullOrWhiteSpace(options.KeyPath) ? "" : $" with the key '{options.KeyPath}'")}: {e.Message} "
                + $"(a .pfx with {key}:Password, or a PEM certificate with {key}:KeyPath; {key}:Password for an encrypted key)", e);
        }
    }

    /// <summary>Null when the certificate is valid at <paramref name="now"/>, else what is wrong, to follow its file name.</summary>
    public static string? ValidityProblem(X509Certificate2 certificate, DateTimeOffset now)
    {
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        if (now < notBefore)
        {
            return $"is not valid yet: its validity starts {notBefore:u} (now {now.UtcDateTime:u}; check the clock, or use a certificate valid now)";
        }
        if (now > notAfter)
        {
            return $"expired on {notAfter:u}: renew it (agents refuse an expired certificate)";
        }
        return null;
    }

    private static bool LooksLikePem(string path)
    {
        using var reader = new StreamReader(path);
        var start = new char[64];
        int read = reader.ReadBlock(start, 0, start.Length);
        return new string(start, 0, read).TrimStart().StartsWith("-----BEGIN", StringComparison.Ordinal);
    }
}

internal sealed class LoadedCertificate(X509Certificate2 leaf, X509Certificate2Collection chain) : IDisposable
{
    public X509Certificate2 Leaf { get; } = leaf;

    public X509Certificate2Collection Chain { get; } = chain;

    public void Dispose()
    {
        Leaf.Dispose();
        foreach (var certificate in Chain)
        {
            certificate.Dispose();
        }
    }
}

public static class FleetKestrelExtensions
{
    /// <summary>
    /// Believes X-Forwarded-For and -Proto from <c>Fleet:Http:TrustedProxies</c> only (none by default: ASP.NET's own
    /// default trusts loopback, which would let any local process claim another address). First, so rate limits,
    /// sign-in and the audit log see the browser's address.
    /// </summary>
    public static WebApplication UseTrustedProxies(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var http = app.Services.GetRequiredService<IOptions<FleetEndpointOptions>>().Value.Http;
        // Validated on start: a bad entry never reaches here.
        var networks = HttpEndpointOptions.ParseProxies(http.TrustedProxies, out _) ?? [];
        if (networks.Count == 0)
        {
            return app;
        }
        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto };
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var network in networks)
        {
            forwarded.KnownIPNetworks.Add(network);
        }
        app.UseForwardedHeaders(forwarded);
        return app;
    }

    /// <summary>
    /// The two endpoints. Unset URLs take the mode's defaults, written into configuration (as the local database
    /// writes its connection string) so that everything reading Fleet:Http:Url sees the same: https on every
    /// address with a database configured, http on 127.0.0.1 in the one-command mode.
    /// </summary>
    public static IHostApplicationBuilder AddFleetEndpoints(this IHostApplicationBuilder builder, bool oneCommandMode)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var defaults = new Dictionary<string, string?>();
        if (string.IsNullOrWhiteSpace(builder.Configuration["Fleet:Http:Url"]))
        {
            defaults["Fleet:Http:Url"] = oneCommandMode ? FleetEndpointOptions.LocalHttpUrl : FleetEndpointOptions.SecureHttpUrl;
        }
        if (string.IsNullOrWhiteSpace(builder.Configuration["Fleet:Grpc:Url"]))
        {
            defaults["Fleet:Grpc:Url"] = oneCommandMode ? FleetEndpointOptions.LocalGrpcUrl : FleetEndpointOptions.SecureGrpcUrl;
        }
        if (defaults.Count > 0)
        {
            builder.Configuration.AddInMemoryCollection(defaults);
        }
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<FleetEndpointOptions>().Bind(builder.Configuration.GetSection(FleetEndpointOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FleetEndpointOptions>, FleetEndpointOptionsValidator>();
        services.AddSingleton<FleetEndpoints>();
        // Resolved by the enrollment page once the server listens, so it names the real port and certificate.
        services.AddTransient(sp => sp.GetRequiredService<FleetEndpoints>().AgentHint());
        services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<FleetEndpointOptions>, FleetEndpoints>((kestrel, options, endpoints) => endpoints.Configure(kestrel, options.Value));
        return builder;
    }
}
