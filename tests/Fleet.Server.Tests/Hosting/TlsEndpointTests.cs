using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleet.Contracts.V1;
using Fleet.Server.Tests.Ingest;
using Grpc.Net.Client;

namespace Fleet.Server.Tests.Hosting;

/// <summary>The gRPC endpoint over TLS (https with a PFX from configuration), HTTP/2 chosen by ALPN.</summary>
public sealed class TlsEndpointTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly string _pfx = Path.Combine(Path.GetTempPath(), $"fleet-tls-{Guid.NewGuid():N}.pfx");

    public void Dispose() => File.Delete(_pfx);

    [Fact]
    public async Task HttpsGrpcEndpoint_WithCertificateFromConfiguration_ServesTheStreamOverTls()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        await File.WriteAllBytesAsync(_pfx, certificate.Export(X509ContentType.Pfx, "secret"), cts.Token);
        using var factory = new FleetServerFactory(new Dictionary<string, string?>
        {
            ["Fleet:Grpc:Url"] = "https://127.0.0.1:0",
            ["Fleet:Grpc:Certificate:Path"] = _pfx,
            ["Fleet:Grpc:Certificate:Password"] = "secret",
        });
        var (_, grpc) = factory.Start();
        string token = factory.Store.AddKnownToken();
        string thumbprint = certificate.Thumbprint;
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == thumbprint,
            },
        };
        using var channel = GrpcChannel.ForAddress(grpc, new GrpcChannelOptions { HttpHandler = handler });

        using var call = new AgentIngest.AgentIngestClient(channel).Connect(cancellationToken: cts.Token);
        await call.RequestStream.WriteAsync(TestSnapshots.HelloMessage(token), cts.Token);

        Assert.Equal(Uri.UriSchemeHttps, grpc.Scheme);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(ServerMessage.BodyOneofCase.Welcome, call.ResponseStream.Current.BodyCase);
        await call.RequestStream.CompleteAsync();
    }
}
