using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleet.Agent.Streaming;
using Fleet.Contracts.V1;
using Fleet.Server.Hosting;
using Fleet.Server.Tests.Ingest;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Hosting;

/// <summary>
/// The endpoints over TLS: a configured certificate (PFX for gRPC, PEM for both), or the self-signed one made
/// on first run and kept for the next; HTTP/1.1 and HTTP/2 chosen by ALPN.
/// </summary>
public sealed class TlsEndpointTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _folder = Directory.CreateTempSubdirectory("fleet-tls-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task HttpsGrpcEndpoint_WithCertificateFromConfiguration_ServesTheStreamOverTls()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var certificate = MakeCertificate("127.0.0.1");
        string pfx = Path.Combine(_folder, "grpc.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "secret"), cts.Token);
        using var factory = new FleetServerFactory(new Dictionary<string, string?>
        {
            ["Fleet:Grpc:Url"] = "https://127.0.0.1:0",
            ["Fleet:Grpc:Certificate:Path"] = pfx,
            ["Fleet:Grpc:Certificate:Password"] = "secret",
        });
        var (_, grpc) = factory.Start();

        await AssertWelcomedAsync(factory, grpc, Fingerprint(certificate), cts.Token);
        Assert.Null(factory.Services.GetRequiredService<FleetEndpoints>().HttpCertificate);
    }

    [Fact]
    public async Task SelfSignedCertificate_IsMadeOnFirstRun_ServesBothEndpoints_AndIsReusedOnTheNextStart()
    {
        using var cts = new CancellationTokenSource(Timeout);
        string tls = Path.Combine(_folder, "tls");
        var settings = new Dictionary<string, string?>
        {
            ["Fleet:Http:Url"] = "https://127.0.0.1:0",
            ["Fleet:Grpc:Url"] = "https://127.0.0.1:0",
            ["Fleet:Tls:Directory"] = tls,
            ["Fleet:Tls:SubjectNames:0"] = "fleet.example.com,10.20.30.40",
        };
        string firstFingerprint;
        using (var first = new FleetServerFactory(settings))
        {
            var (http, grpc) = first.Start();
            var endpoints = first.Services.GetRequiredService<FleetEndpoints>();
            firstFingerprint = endpoints.GrpcCertificate!.Fingerprint;

            string pem = Path.Combine(tls, SelfSignedCertificate.CertificateFileName);
            string key = Path.Combine(tls, SelfSignedCertificate.KeyFileName);
            Assert.True(File.Exists(pem) && File.Exists(key), "the certificate and its key are kept in Fleet:Tls:Directory");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
            using var written = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(pem, cts.Token));
            Assert.Equal(firstFingerprint, ServerFingerprint.Format(SHA256.HashData(written.RawData)));
            Assert.Same(endpoints.GrpcCertificate, endpoints.HttpCertificate);
            var names = SelfSignedCertificate.SubjectAlternativeNames(written);
            Assert.Superset(new HashSet<string>(StringComparer.OrdinalIgnoreCase) { Dns.GetHostName(), "localhost", "127.0.0.1", "::1", "fleet.example.com", "10.20.30.40" }, names);
            var validity = written.NotAfter - written.NotBefore;
            Assert.InRange(validity.TotalDays, 729, 732);

            // The HTTP endpoint: HTTP/1.1 over TLS, trusted through the PEM file as its own root.
            var trustingThePem = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            trustingThePem.CustomTrustStore.Add(written);
            using var handler = new SocketsHttpHandler
            {
                SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = trustingThePem },
            };
            using var client = new HttpClient(handler) { BaseAddress = http, Timeout = Timeout };
            using var health = await client.GetAsync(new Uri("/healthz", UriKind.Relative), cts.Token);
            Assert.Equal(Uri.UriSchemeHttps, http.Scheme);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal(HttpVersion.Version11, health.Version);

            await AssertWelcomedAsync(first, grpc, firstFingerprint, cts.Token);
        }

        using var second = new FleetServerFactory(settings);
        var (_, grpcAgain) = second.Start();

        Assert.Equal(firstFingerprint, second.Services.GetRequiredService<FleetEndpoints>().GrpcCertificate!.Fingerprint);
        await AssertWelcomedAsync(second, grpcAgain, firstFingerprint, cts.Token);
    }

    [Fact]
    public async Task ConfiguredPemCertificate_IsServedByBothEndpoints_InsteadOfASelfSignedOne()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var certificate = MakeCertificate("127.0.0.1");
        string pem = Path.Combine(_folder, "server.pem");
        string key = Path.Combine(_folder, "server.key");
        await File.WriteAllTextAsync(pem, certificate.ExportCertificatePem(), cts.Token);
        using (var rsa = certificate.GetRSAPrivateKey()!)
        {
            await File.WriteAllTextAsync(key, rsa.ExportPkcs8PrivateKeyPem(), cts.Token);
        }
        string tls = Path.Combine(_folder, "tls");
        using var factory = new FleetServerFactory(new Dictionary<string, string?>
        {
            ["Fleet:Http:Url"] = "https://127.0.0.1:0",
            ["Fleet:Grpc:Url"] = "https://127.0.0.1:0",
            ["Fleet:Tls:Certificate:Path"] = pem,
            ["Fleet:Tls:Certificate:KeyPath"] = key,
            ["Fleet:Tls:Directory"] = tls,
        });
        var (http, grpc) = factory.Start();
        string fingerprint = Fingerprint(certificate);
        string? presented = null;
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) =>
                {
                    presented = cert is null ? null : ServerFingerprint.Format(ServerFingerprint.Of(cert));
                    return presented == fingerprint;
                },
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = http, Timeout = Timeout };

        using var health = await client.GetAsync(new Uri("/healthz", UriKind.Relative), cts.Token);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(fingerprint, presented);
        await AssertWelcomedAsync(factory, grpc, fingerprint, cts.Token);
        Assert.False(Directory.Exists(tls), "no self-signed certificate is made when one is configured");
    }

    [Fact]
    public void GrpcCertificateAlone_IsAlsoServedByAnHttpsHttpEndpoint_AndTlsCertificateOverridesItThere()
    {
        using var grpcCertificate = MakeCertificate("127.0.0.1");
        using var tlsCertificate = MakeCertificate("127.0.0.1");
        string grpcPfx = Path.Combine(_folder, "grpc.pfx");
        string tlsPfx = Path.Combine(_folder, "tls.pfx");
        File.WriteAllBytes(grpcPfx, grpcCertificate.Export(X509ContentType.Pfx));
        File.WriteAllBytes(tlsPfx, tlsCertificate.Export(X509ContentType.Pfx));
        var settings = new Dictionary<string, string?>
        {
            ["Fleet:Http:Url"] = "https://127.0.0.1:0",
            ["Fleet:Grpc:Url"] = "https://127.0.0.1:0",
            ["Fleet:Grpc:Certificate:Path"] = grpcPfx,
            ["Fleet:Tls:Directory"] = Path.Combine(_folder, "tls"),
        };
        using var grpcOnly = new FleetServerFactory(settings);
        grpcOnly.Start();
        var onlyGrpc = grpcOnly.Services.GetRequiredService<FleetEndpoints>();

        settings["Fleet:Tls:Certificate:Path"] = tlsPfx;
        using var both = new FleetServerFactory(settings);
        both.Start();
        var bothEndpoints = both.Services.GetRequiredService<FleetEndpoints>();

        Assert.Equal(Fingerprint(grpcCertificate), onlyGrpc.HttpCertificate!.Fingerprint);
        Assert.Equal(Fingerprint(grpcCertificate), onlyGrpc.GrpcCertificate!.Fingerprint);
        Assert.Equal(Fingerprint(tlsCertificate), bothEndpoints.HttpCertificate!.Fingerprint);
        Assert.Equal(Fingerprint(grpcCertificate), bothEndpoints.GrpcCertificate!.Fingerprint);
        Assert.False(Directory.Exists(Path.Combine(_folder, "tls")), "no self-signed certificate is made when one is configured");
    }

    [Fact]
    public async Task LocalAgent_OverTheServersSelfSignedTls_PinsItAndStreams()
    {
        using var factory = new FleetServerFactory(new Dictionary<string, string?>
        {
            ["Fleet:Grpc:Url"] = "https://127.0.0.1:0",
            ["Fleet:Tls:Directory"] = Path.Combine(_folder, "tls"),
            ["Fleet:LocalAgent:Enabled"] = "true",
            ["Fleet:LocalAgent:StateDirectory"] = Path.Combine(_folder, "agent"),
            ["Fleet:AgentConfig:Interval"] = "00:00:01",
            ["Fleet:Ingest:MaxMessageSize"] = (16 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        factory.Start();

        await factory.Store.WaitForStoredAsync(1, Timeout);

        Assert.Equal(Dns.GetHostName(), factory.Store.Stored[0].Snapshot.Host.Hostname);
    }

    [Fact]
    public void EnrollmentHint_NamesTheBoundStreamAndPinsItsCertificate()
    {
        using var factory = new FleetServerFactory(new Dictionary<string, string?>
        {
            ["Fleet:Grpc:Url"] = "https://127.0.0.1:0",
            ["Fleet:Tls:Directory"] = Path.Combine(_folder, "tls"),
        });
        var (_, grpc) = factory.Start();

        var hint = factory.Services.GetRequiredService<AgentEndpointHint>();
        var endpoints = factory.Services.GetRequiredService<FleetEndpoints>();

        Assert.Equal($"https://127.0.0.1:{grpc.Port}", hint.ServerUrl);
        Assert.Contains($"--server-fingerprint {endpoints.GrpcCertificate!.Fingerprint}", hint.RunCommand(), StringComparison.Ordinal);
    }

    [Fact]
    public void ExpiredConfiguredCertificate_RefusesToStartNamingTheKey()
    {
        using var key = RSA.Create(2048);
        using var expired = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));
        string pem = Path.Combine(_folder, "expired.pem");
        string keyPath = Path.Combine(_folder, "expired.key");
        File.WriteAllText(pem, expired.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        using var factory = new FleetServerFactory(new Dictionary<string, string?>
        {
            ["Fleet:Grpc:Url"] = "https://127.0.0.1:0",
            ["Fleet:Tls:Certificate:Path"] = pem,
            ["Fleet:Tls:Certificate:KeyPath"] = keyPath,
        });

        var ex = Assert.ThrowsAny<Exception>(() => factory.Start());

        var validation = Assert.IsType<Microsoft.Extensions.Options.OptionsValidationException>(ex.GetBaseException() as Microsoft.Extensions.Options.OptionsValidationException ?? ex);
        Assert.Contains(validation.Failures, f => f.StartsWith($"Fleet:Tls:Certificate:Path: '{pem}' expired on", StringComparison.Ordinal));
    }

    /// <summary>Hello over the https gRPC endpoint, trusting exactly the certificate with <paramref name="fingerprint"/>, is answered with Welcome.</summary>
    private static async Task AssertWelcomedAsync(FleetServerFactory factory, Uri grpc, string fingerprint, CancellationToken ct)
    {
        string token = factory.Store.AddKnownToken();
        var pin = ServerFingerprint.TryParse(fingerprint, out _)!;
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && ServerFingerprint.Of(presented).SequenceEqual(pin),
            },
        };
        using var channel = GrpcChannel.ForAddress(grpc, new GrpcChannelOptions { HttpHandler = handler });
        using var call = new AgentIngest.AgentIngestClient(channel).Connect(cancellationToken: ct);
        await call.RequestStream.WriteAsync(TestSnapshots.HelloMessage(token), ct);

        Assert.Equal(Uri.UriSchemeHttps, grpc.Scheme);
        Assert.True(await call.ResponseStream.MoveNext(ct));
        Assert.Equal(ServerMessage.BodyOneofCase.Welcome, call.ResponseStream.Current.BodyCase);
        await call.RequestStream.CompleteAsync();
    }

    private static string Fingerprint(X509Certificate2 certificate) => ServerFingerprint.Format(SHA256.HashData(certificate.RawData));

    private static X509Certificate2 MakeCertificate(string address)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={address}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Parse(address));
        request.CertificateExtensions.Add(san.Build());
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pfx), null, X509KeyStorageFlags.Exportable);
    }
}
