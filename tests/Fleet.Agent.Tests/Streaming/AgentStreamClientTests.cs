using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleet.Agent.Streaming;
using Fleet.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace Fleet.Agent.Tests.Streaming;

public sealed class AgentStreamClientTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
        _folder.Dispose();
    }

    private static HostIdentity Host => Snapshots.Make(1).Host;

    private static StreamClientOptions Options(Uri address, string token = "token", Func<TimeSpan, CancellationToken, Task>? delay = null, int maxInFlight = 64, string? caFile = null, string? fingerprint = null) => new()
    {
        ServerAddress = address,
        EnrollmentToken = token,
        MaxInFlight = maxInFlight,
        CaFile = caFile,
        ServerFingerprint = fingerprint,
        // Reconnect at once (but not in a hot loop): the tests assert on outcomes, never on time.
        Delay = delay ?? ((_, ct) => Task.Delay(TimeSpan.FromMilliseconds(20), ct)),
    };

    private static void Spool(SnapshotSpool spool, int count)
    {
        for (int i = 0; i < count; i++)
        {
            ulong sequence = spool.ReserveSequence();
            spool.Append(Snapshots.Make(sequence));
        }
    }

    private (AgentStreamClient Client, Task Running) Start(SnapshotSpool spool, StreamClientOptions options, ILogger? logger = null)
    {
        var client = new AgentStreamClient(options, spool, logger) { Host = Host };
        return (client, client.RunAsync(_stop.Token));
    }

    private async Task StopAsync(Task running)
    {
        await _stop.CancelAsync();
        await running.WaitAsync(Eventually.Timeout);
    }

    [Fact]
    public async Task Connect_SendsHelloThenReplaysTheSpoolInOrderGzippedAndRemovesWhatIsAcknowledged()
    {
        await using var server = await FakeIngestServer.StartAsync();
        using var spool = SnapshotSpool.Open(_folder.Path);
        Spool(spool, 5);
        var (client, running) = Start(spool, Options(server.Address));

        await Eventually.WaitUntil(() => spool.Count == 0, "the spool is empty");
        Spool(spool, 2);
        client.NotifySpooled();
        await Eventually.WaitUntil(() => spool.Count == 0 && server.State.Received.Count == 7, "the new snapshots are acknowledged");
        await StopAsync(running);

        var hello = Assert.Single(server.State.Hellos);
        Assert.Equal(spool.AgentId, hello.AgentId);
        Assert.Equal("token", hello.EnrollmentToken);
        Assert.Equal(1UL, hello.OldestUnacknowledgedSequence);
        Assert.Equal(1U, hello.ContractVersion);
        Assert.Equal("test-host", hello.Host.Hostname);
        Assert.Equal([1UL, 2, 3, 4, 5, 6, 7], server.State.Received.Select(r => r.Sequence));
        Assert.Equal("gzip", Assert.Single(server.State.RequestEncodings));
        Assert.Equal(7, client.Acknowledged);
    }

    [Fact]
    public async Task Stop_HalfClosesTheStreamInsteadOfResettingIt()
    {
        await using var server = await FakeIngestServer.StartAsync();
        using var spool = SnapshotSpool.Open(_folder.Path);
        Spool(spool, 2);
        var options = new StreamClientOptions { ServerAddress = server.Address, EnrollmentToken = "token", GracefulCloseTimeout = TimeSpan.FromSeconds(20) };
        var (_, running) = Start(spool, options);
        await Eventually.WaitUntil(() => spool.Count == 0, "the spool is empty");

        await StopAsync(running);

        await Eventually.WaitUntil(() => server.State.ClosedByAgent == 1, "the server saw the end of the agent's stream");
    }

    [Fact]
    public async Task Welcome_WithTheLastCommittedSequence_DropsWhatTheServerHasWithoutResendingIt()
    {
        var state = new FakeIngestState { WelcomeCommitted = 3 };
        await using var server = await FakeIngestServer.StartAsync(state);
        using var spool = SnapshotSpool.Open(_folder.Path);
        Spool(spool, 5);
        var (_, running) = Start(spool, Options(server.Address));

        await Eventually.WaitUntil(() => spool.Count == 0, "the spool is empty");
        await StopAsync(running);

        Assert.Equal([4UL, 5], state.Received.Select(r => r.Sequence));
    }

    [Fact]
    public async Task Welcome_AheadOfARestoredStateFolder_MovesTheNextSequencePastWhatTheServerHas()
    {
        // The state folder came back from an older copy: the server already committed up to 100.
        var state = new FakeIngestState { WelcomeCommitted = 100 };
        await using var server = await FakeIngestServer.StartAsync(state);
        using var spool = SnapshotSpool.Open(_folder.Path);
        Spool(spool, 2);
        var (_, running) = Start(spool, Options(server.Address));

        await Eventually.WaitUntil(() => spool.Count == 0, "the spool is empty");
        await StopAsync(running);

        Assert.Equal(101UL, spool.ReserveSequence());
    }

    [Fact]
    public async Task Rejection_RemovesTheSnapshotFromTheSpoolAndLogsFieldAndReason()
    {
        var state = new FakeIngestState
        {
            Reject = s => s.Sequence == 2 ? new Rejection { Sequence = 2, Field = "processes[0].cmdline", Reason = "too long" } : null,
        };
        await using var server = await FakeIngestServer.StartAsync(state);
        using var spool = SnapshotSpool.Open(_folder.Path);
        Spool(spool, 3);
        var logger = new ListLogger();
        var (client, running) = Start(spool, Options(server.Address), logger);

        await Eventually.WaitUntil(() => spool.Count == 0, "the spool is empty");
        await StopAsync(running);

        Assert.Equal(1, client.Rejected);
        Assert.Equal([1UL, 3], state.CommittedSequences(spool.AgentId));
        Assert.True(logger.Contains(LogLevel.Warning, "processes[0].cmdline: too long"));
    }

    [Fact]
    public async Task ConfigPushedDownTheStream_IsRaisedToTheAgent()
    {
        var state = new FakeIngestState { WelcomeConfig = new AgentConfig { Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(30)) } };
        await using var server = await FakeIngestServer.StartAsync(state);
        using var spool = SnapshotSpool.Open(_folder.Path);
        var (client, running) = Start(spool, Options(server.Address));
        var configs = new ConcurrentQueue<AgentConfig>();
        client.ConfigReceived += configs.Enqueue;

        await Eventually.WaitUntil(() => configs.Count == 1, "Welcome's configuration arrived");
        state.Push(new ServerMessage { Config = new AgentConfig { Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)) } });
        await Eventually.WaitUntil(() => configs.Count == 2, "the pushed configuration arrived");
        await StopAsync(running);

        Assert.Equal([30.0, 5.0], configs.Select(c => c.Interval.ToTimeSpan().TotalSeconds));
    }

    [Fact]
    public async Task ServerRestartOnTheSamePort_EverySequenceIsDeliveredAndNoneLost()
    {
        var server = await FakeIngestServer.StartAsync();
        using var spool = SnapshotSpool.Open(_folder.Path);
        Spool(spool, 5);
        var (client, running) = Start(spool, Options(server.Address));
        await Eventually.WaitUntil(() => spool.Count == 0, "the first five are acknowledged");

        await server.StopAsync();
        await Eventually.WaitUntil(() => !client.IsConnected, "the client saw the stream end");
        Spool(spool, 5);
        client.NotifySpooled();
        Assert.Equal(5, spool.Count);
        var restarted = await server.RestartAsync();
        await using (restarted)
        {
            Spool(spool, 5);
            client.NotifySpooled();
            await Eventually.WaitUntil(() => spool.Count == 0, "everything is acknowledged after the restart");
            await StopAsync(running);
        }

        Assert.Equal(Enumerable.Range(1, 15).Select(i => (ulong)i), restarted.State.CommittedSequences(spool.AgentId));
        Assert.True(client.Welcomes >= 2);
    }

    [Fact]
    public async Task ServerDown_DelaysBetweenAttemptsGrowAndAreCapped()
    {
        // A port nobody listens on: every attempt fails at once.
        using var unused = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        unused.Start();
        int port = ((IPEndPoint)unused.LocalEndpoint).Port;
        unused.Stop();
        var delays = new ConcurrentQueue<TimeSpan>();
        using var spool = SnapshotSpool.Open(_folder.Path);
        var options = new StreamClientOptions
        {
            ServerAddress = new Uri($"http://127.0.0.1:{port}"),
            EnrollmentToken = "token",
            BackoffInitial = TimeSpan.FromSeconds(0.5),
            BackoffCap = TimeSpan.FromSeconds(30),
            Jitter = () => 1.0,
            Delay = (delay, _) =>
            {
                delays.Enqueue(delay);
                return Task.CompletedTask;
            },
        };
        var (_, running) = Start(spool, options);

        await Eventually.WaitUntil(() => delays.Count >= 10, "ten attempts failed");
        await StopAsync(running);

        var seconds = delays.Take(10).Select(d => d.TotalSeconds).ToList();
        Assert.Equal([0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30], seconds);
    }

    [Fact]
    public async Task RefusedToken_IsLoggedClearlyAndRetriedUntilTheServerAcceptsIt()
    {
        var state = new FakeIngestState { ExpectedToken = "the-right-one" };
        await using var server = await FakeIngestServer.StartAsync(state);
        using var spool = SnapshotSpool.Open(_folder.Path);
        Spool(spool, 2);
        var logger = new ListLogger();
        var (client, running) = Start(spool, Options(server.Address, token: "wrong"), logger);

        await Eventually.WaitUntil(() => state.Unauthenticated >= 3, "three attempts were refused");
        Assert.True(logger.Contains(LogLevel.Error, "enrollment token refused"));
        Assert.False(running.IsCompleted);
        // An operator fixes the token on the server's side: the agent gets in on its next attempt.
        state.ExpectedToken = "wrong";
        await Eventually.WaitUntil(() => spool.Count == 0, "the spool is delivered");
        await StopAsync(running);

        Assert.Equal([1UL, 2], state.CommittedSequences(spool.AgentId));
        Assert.Equal(1, client.Welcomes);
    }

    [Fact]
    public async Task SlowServer_NoMoreThanTheWindowIsInFlight()
    {
        var state = new FakeIngestState { AutoAck = false };
        await using var server = await FakeIngestServer.StartAsync(state);
        using var spool = SnapshotSpool.Open(_folder.Path);
        Spool(spool, 10);
        var (client, running) = Start(spool, Options(server.Address, maxInFlight: 3));

        await Eventually.WaitUntil(() => state.Received.Count == 3 && client.InFlight == 3, "the window is full");
        Assert.Equal(3, state.Received.Count);
        state.Push(new ServerMessage { Ack = new Ack { Sequence = 1 } });
        await Eventually.WaitUntil(() => state.Received.Count == 4, "one more was sent after an ack");
        await StopAsync(running);

        Assert.Equal([1UL, 2, 3, 4], state.Received.Select(r => r.Sequence));
        Assert.Equal(9, spool.Count);
    }

    [Fact]
    public async Task Tls_WithTheServersCaInACaFile_Connects()
    {
        using var ca = CreateCa();
        using var leaf = CreateServerCertificate(ca);
        string caFile = Path.Combine(_folder.Path, "ca.pem");
        File.WriteAllText(caFile, ca.ExportCertificatePem());
        await using var server = await FakeIngestServer.StartAsync(certificate: leaf);
        using var spool = SnapshotSpool.Open(Path.Combine(_folder.Path, "state"));
        Spool(spool, 2);
        var (_, running) = Start(spool, Options(server.Address, caFile: caFile));

        await Eventually.WaitUntil(() => spool.Count == 0, "the spool is delivered over TLS");
        await StopAsync(running);

        Assert.StartsWith("https://", server.Address.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_WithoutTrustingTheServersCa_NeverDeliversButKeepsTrying_SayingHowToTrustIt()
    {
        using var ca = CreateCa();
        using var leaf = CreateServerCertificate(ca);
        await using var server = await FakeIngestServer.StartAsync(certificate: leaf);
        using var spool = SnapshotSpool.Open(_folder.Path);
        Spool(spool, 1);
        var attempts = 0;
        var options = Options(server.Address, delay: (_, ct) =>
        {
            Interlocked.Increment(ref attempts);
            return Task.Delay(TimeSpan.FromMilliseconds(20), ct);
        });
        var logger = new ListLogger();
        var (_, running) = Start(spool, options, logger);

        await Eventually.WaitUntil(() => Volatile.Read(ref attempts) >= 3, "three attempts failed");
        await StopAsync(running);

        Assert.Empty(server.State.Hellos);
        Assert.Equal(1, spool.Count);
        string presented = ServerFingerprint.Format(ServerFingerprint.Of(leaf));
        Assert.True(logger.Contains(LogLevel.Error, $"(SHA-256 {presented}) is not trusted (RemoteCertificateChainErrors)"), string.Join("\n", logger.Entries.Select(e => e.Message)));
        Assert.True(logger.Contains(LogLevel.Error, "--ca-file"));
    }

    [Fact]
    public async Task Tls_WithThePinnedFingerprint_DeliversToASelfSignedServerThatNamesAnotherHost()
    {
        // Neither chain (self-signed, not trusted) nor name (not 127.0.0.1) would pass without the pin.
        using var certificate = CreateSelfSigned("elsewhere.example");
        await using var server = await FakeIngestServer.StartAsync(certificate: certificate);
        using var spool = SnapshotSpool.Open(Path.Combine(_folder.Path, "state"));
        Spool(spool, 2);
        string pin = ServerFingerprint.Format(ServerFingerprint.Of(certificate)).Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
        var (_, running) = Start(spool, Options(server.Address, fingerprint: pin));

        await Eventually.WaitUntil(() => spool.Count == 0, "the spool is delivered to the pinned server");
        await StopAsync(running);

        Assert.Equal(2, server.State.Received.Count);
    }

    [Fact]
    public async Task Tls_WithAnotherPinnedFingerprint_RefusesTheServerBeforeHelloLogsBothFingerprintsAndKeepsTrying()
    {
        using var certificate = CreateSelfSigned("127.0.0.1");
        using var pinned = CreateSelfSigned("127.0.0.1");
        await using var server = await FakeIngestServer.StartAsync(certificate: certificate);
        using var spool = SnapshotSpool.Open(_folder.Path);
        Spool(spool, 1);
        var attempts = 0;
        var options = Options(server.Address, token: "secret-token", fingerprint: ServerFingerprint.Format(ServerFingerprint.Of(pinned)), delay: (_, ct) =>
        {
            Interlocked.Increment(ref attempts);
            return Task.Delay(TimeSpan.FromMilliseconds(20), ct);
        });
        var logger = new ListLogger();
        var (_, running) = Start(spool, options, logger);

        await Eventually.WaitUntil(() => Volatile.Read(ref attempts) >= 3, "three attempts were refused");
        await StopAsync(running);

        Assert.Empty(server.State.Hellos);
        Assert.Equal(1, spool.Count);
        string presented = ServerFingerprint.Format(ServerFingerprint.Of(certificate));
        string expected = ServerFingerprint.Format(ServerFingerprint.Of(pinned));
        Assert.True(logger.Contains(LogLevel.Error, $"the server's certificate SHA-256 {presented} does not match the pinned {expected}"),
            string.Join("\n", logger.Entries.Select(e => e.Message)));
        Assert.True(logger.Entries.Count(e => e.Message.Contains("does not match the pinned", StringComparison.Ordinal)) >= 3, "said at every refused attempt");
    }

    [Fact]
    public async Task Tls_WithTheServersSelfSignedCertificateAsCaFile_Connects()
    {
        using var certificate = CreateSelfSigned("127.0.0.1");
        string caFile = Path.Combine(_folder.Path, "server.pem");
        File.WriteAllText(caFile, certificate.ExportCertificatePem());
        await using var server = await FakeIngestServer.StartAsync(certificate: certificate);
        using var spool = SnapshotSpool.Open(Path.Combine(_folder.Path, "state"));
        Spool(spool, 1);
        var (_, running) = Start(spool, Options(server.Address, caFile: caFile));

        await Eventually.WaitUntil(() => spool.Count == 0, "the spool is delivered trusting the server's own certificate");
        await StopAsync(running);
    }

    [Theory]
    [InlineData("https://fleet.example:7443", "ca", "ServerFingerprint and CaFile")]
    [InlineData("http://127.0.0.1:7443", null, "not https://")]
    [InlineData("https://fleet.example:7443", "bad", "ServerFingerprint: 'zz'")]
    public void Constructor_WithAPinThatCannotBeUsed_ThrowsNamingTheOption(string address, string? caFile, string expected)
    {
        using var spool = SnapshotSpool.Open(_folder.Path);
        string fingerprint = caFile == "bad" ? "zz" : new string('a', 64);
        var options = new StreamClientOptions
        {
            ServerAddress = new Uri(address),
            EnrollmentToken = "t",
            ServerFingerprint = fingerprint,
            CaFile = caFile == "ca" ? Path.Combine(_folder.Path, "ca.pem") : null,
        };

        var e = Assert.Throws<ArgumentException>(() => new AgentStreamClient(options, spool));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://10.1.2.3:7443", false, "plaintext")]
    [InlineData("ftp://fleet.example", false, "https://")]
    public void Constructor_WithAnAddressThatMayNotBeUsed_Throws(string address, bool allowPlaintext, string message)
    {
        using var spool = SnapshotSpool.Open(_folder.Path);
        var options = new StreamClientOptions { ServerAddress = new Uri(address), EnrollmentToken = "t", AllowPlaintext = allowPlaintext };

        var e = Assert.Throws<ArgumentException>(() => new AgentStreamClient(options, spool));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_WithACaFileThatHoldsNoCertificate_ThrowsNamingTheFile()
    {
        string caFile = Path.Combine(_folder.Path, "ca.pem");
        File.WriteAllText(caFile, "not a certificate");
        using var spool = SnapshotSpool.Open(Path.Combine(_folder.Path, "state"));

        var e = Assert.Throws<ArgumentException>(() => new AgentStreamClient(Options(new Uri("https://fleet.example:7443"), caFile: caFile), spool));

        Assert.Contains(caFile, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://fleet.example:7443", false)]
    [InlineData("http://127.0.0.1:7443", false)]
    [InlineData("http://[::1]:7443", false)]
    [InlineData("http://localhost:7443", false)]
    [InlineData("http://10.1.2.3:7443", true)]
    public void Validate_AllowsHttpsLoopbackOrExplicitPlaintext(string address, bool allowPlaintext)
    {
        Assert.Null(IngestChannel.Validate(new Uri(address), allowPlaintext));
    }

    private static X509Certificate2 CreateCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Fleet Test CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>A self-signed server certificate as the Fleet server makes one: not a CA, named only <paramref name="name"/>.</summary>
    private static X509Certificate2 CreateSelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var names = new SubjectAlternativeNameBuilder();
        if (IPAddress.TryParse(name, out var address))
        {
            names.AddIpAddress(address);
        }
        else
        {
            names.AddDnsName(name);
        }
        request.CertificateExtensions.Add(names.Build());
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12));
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pkcs12), null);
    }

    private static X509Certificate2 CreateServerCertificate(X509Certificate2 ca)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), [1, 2, 3, 4]);
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
