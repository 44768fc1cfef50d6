using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using Fleet.Agent.Streaming;
using Fleet.Server.Hosting;
using Fleet.Server.Tests.Hosting;
using Fleet.Server.Tests.Ingest;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fleet.Server.Tests.EndToEnd;

/// <summary>
/// A real agent (collecting this machine) against the real server over real gRPC on loopback, the server serving
/// the self-signed certificate it made on first run: the agent pinning that certificate streams, the agent
/// pinning another refuses the server before a single request (so neither Hello nor its token is ever sent).
/// </summary>
public sealed class PinningTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly string _folder = Directory.CreateTempSubdirectory("fleet-pinning-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private FleetServerFactory Server() => new(new Dictionary<string, string?>
    {
        ["Fleet:Grpc:Url"] = "https://127.0.0.1:0",
        ["Fleet:Tls:Directory"] = Path.Combine(_folder, "tls"),
        // What a production server accepts: a real host's snapshot may be larger than the factory's 1 MiB.
        ["Fleet:Ingest:MaxMessageSize"] = (16 * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
    });

    private AgentRunner Agent(Uri grpc, string token, string fingerprint, ILogger logger) => new(new AgentRunnerOptions
    {
        ServerAddress = grpc,
        EnrollmentToken = token,
        StateDirectory = Path.Combine(_folder, "agent"),
        Interval = TimeSpan.FromSeconds(1),
        ServerFingerprint = fingerprint,
    }, logger);

    [Fact]
    public async Task AgentPinningTheServersSelfSignedCertificate_StreamsSnapshotsThatAreStored()
    {
        using var factory = Server();
        var (_, grpc) = factory.Start();
        string token = factory.Store.AddKnownToken("pinned");
        var served = factory.Services.GetRequiredService<FleetEndpoints>().GrpcCertificate!;
        Assert.True(served.SelfSigned);
        // As an operator copies it from the log, in lower case without colons.
        string pin = served.Fingerprint.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
        var log = new ListLogger<AgentRunner>();
        using var stop = new CancellationTokenSource(Deadline);

        var running = Agent(grpc, token, pin, log).RunAsync(stop.Token);
        await factory.Store.WaitForStoredAsync(1, Deadline);
        await stop.CancelAsync();
        await running.WaitAsync(Deadline);

        var (agentId, snapshot) = factory.Store.Stored[0];
        Assert.Equal(Environment.MachineName, snapshot.Host.Hostname);
        Assert.NotEmpty(snapshot.Processes);
        Assert.Contains(factory.Store.Hellos, h => h.AgentId == agentId);
        Assert.DoesNotContain(log.Lines, l => l.Message.Contains("does not match the pinned", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AgentPinningAnotherCertificate_RefusesTheServerBeforeAnyRequest_AndSaysWhy()
    {
        using var factory = Server();
        var (_, grpc) = factory.Start();
        string token = factory.Store.AddKnownToken("mispinned");
        string served = factory.Services.GetRequiredService<FleetEndpoints>().GrpcCertificate!.Fingerprint;
        string wrong = ServerFingerprint.Format(System.Security.Cryptography.SHA256.HashData("another server"u8));
        using var meters = new ServerMeters(factory.Services.GetRequiredService<IMeterFactory>());
        var log = new ListLogger<AgentRunner>();
        using var stop = new CancellationTokenSource(Deadline);

        var running = Agent(grpc, token, wrong, log).RunAsync(stop.Token);
        // Two refusals: the agent keeps retrying (with backoff) instead of giving up or going on.
        await UntilAsync(() => log.Lines.Count(l => l.Message.Contains("does not match the pinned", StringComparison.Ordinal)) >= 2, "two refused attempts", log);
        await stop.CancelAsync();
        await running.WaitAsync(Deadline);

        // The agent's side: the mismatch named, with both fingerprints.
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Error
            && l.Message.Contains($"the server's certificate SHA-256 {served} does not match the pinned {wrong}", StringComparison.Ordinal));
        // The server's side: the agent did connect (with TLS 1.3 the server finishes its half of the handshake before
        // the client checks the certificate), but not one HTTP request arrived: no Hello, so no token, no snapshot.
        Assert.True(meters.Handshakes >= 2, $"the server saw {meters.Handshakes} TLS handshake(s)");
        Assert.Equal(0, meters.Requests);
        Assert.Empty(factory.Store.Hellos);
        Assert.Empty(factory.Store.Stored);

        // The same counter does count a request that is let through, so the zero above means something.
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, c, _, _) => c is not null && ServerFingerprint.Format(ServerFingerprint.Of(c)) == served },
        };
        using var client = new HttpClient(handler) { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact, Timeout = Deadline };
        using var health = await client.GetAsync(new Uri(grpc, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(1, meters.Requests);
    }

    private static async Task UntilAsync(Func<bool> condition, string what, ListLogger<AgentRunner> log)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; the agent said:\n{string.Join("\n", log.Lines.Select(l => l.Message))}");
            await Task.Delay(50);
        }
    }

    /// <summary>This server's own meters (its IMeterFactory's scope): requests started, and TLS handshakes the server finished.</summary>
    private sealed class ServerMeters : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _requests;
        private long _handshakes;

        public ServerMeters(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, scope)
                    && (instrument.Name is "http.server.active_requests" or "kestrel.tls_handshake.duration"))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                if (instrument.Name == "http.server.active_requests" && value > 0)
                {
                    Interlocked.Increment(ref _requests);
                }
            });
            _listener.SetMeasurementEventCallback<double>((instrument, _, _, _) =>
            {
                if (instrument.Name == "kestrel.tls_handshake.duration")
                {
                    Interlocked.Increment(ref _handshakes);
                }
            });
            _listener.Start();
        }

        public long Requests => Interlocked.Read(ref _requests);

        public long Handshakes => Interlocked.Read(ref _handshakes);

        public void Dispose() => _listener.Dispose();
    }
}
