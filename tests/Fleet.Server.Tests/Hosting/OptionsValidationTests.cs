using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleet.Server.Hosting;
using Fleet.Server.Ingest;
using Fleet.Server.LocalAgent;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Fleet.Server.Tests.Hosting;

public sealed class OptionsValidationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("fleet-options-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static ValidateOptionsResult ValidateEndpoints(FleetEndpointOptions options, bool? allowPlaintext = null, DateTimeOffset? now = null) =>
        new FleetEndpointOptionsValidator(Options.Create(new IngestOptions { AllowPlaintext = allowPlaintext }), new FakeTimeProvider(now ?? DateTimeOffset.UtcNow))
            .Validate(null, options);

    /// <summary>The one-command mode's endpoints: plain http on loopback.</summary>
    private static FleetEndpointOptions Local(string? http = null, string? grpc = null) => new()
    {
        Http = new HttpEndpointOptions { Url = http ?? FleetEndpointOptions.LocalHttpUrl },
        Grpc = new GrpcEndpointOptions { Url = grpc ?? FleetEndpointOptions.LocalGrpcUrl },
    };

    [Fact]
    public void Defaults_AreValid()
    {
        var defaults = new FleetEndpointOptions();
        Assert.Equal("https://*:5080", defaults.Http.Url);
        Assert.Equal("https://*:5081", defaults.Grpc.Url);
        Assert.True(ValidateEndpoints(defaults).Succeeded);
        Assert.True(ValidateEndpoints(Local()).Succeeded);
        Assert.True(new IngestOptionsValidator().Validate(null, new IngestOptions()).Succeeded);
        Assert.True(new AgentConfigOptionsValidator().Validate(null, new AgentConfigOptions()).Succeeded);
        Assert.True(new LocalAgentOptionsValidator().Validate(null, new LocalAgentOptions()).Succeeded);
    }

    [Fact]
    public void EndpointProblems_AreAllListedAtOnceWithTheirKeys()
    {
        var options = new FleetEndpointOptions
        {
            Http = new HttpEndpointOptions { Url = "ftp://example" },
            Grpc = new GrpcEndpointOptions { Url = "https://0.0.0.0:7443", Certificate = new CertificateOptions { Path = "/nonexistent/cert.pfx" } },
        };

        var result = ValidateEndpoints(options);

        Assert.False(result.Succeeded);
        var failures = result.Failures!.ToList();
        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("Fleet:Http:Url:", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Fleet:Grpc:Certificate:Path:", StringComparison.Ordinal) && f.Contains("does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public void PlaintextGrpcOnNonLoopback_IsRefusedWithoutAllowPlaintext()
    {
        var options = Local(grpc: "http://0.0.0.0:5081");

        var result = ValidateEndpoints(options);

        var failure = Assert.Single(result.Failures!);
        Assert.Contains("Fleet:Ingest:AllowPlaintext", failure, StringComparison.Ordinal);
        Assert.Contains("https://", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void PlaintextGrpcOnNonLoopback_IsAllowedWithAllowPlaintext()
    {
        var options = Local(grpc: "http://*:5081");

        Assert.True(ValidateEndpoints(options, allowPlaintext: true).Succeeded);
    }

    [Fact]
    public void PlaintextGrpcOnLoopback_IsRefusedWhenAllowPlaintextIsFalse()
    {
        Assert.False(ValidateEndpoints(Local(), allowPlaintext: false).Succeeded);
    }

    [Fact]
    public void TrustedProxies_TakeAddressesAndNetworks_AndABadEntryIsNamedByItsIndex()
    {
        var good = Local();
        foreach (string entry in new[] { "10.0.0.5", "10.0.0.0/8", "fd00::/8", "::1" })
        {
            good.Http.TrustedProxies.Add(entry);
        }
        var bad = Local();
        bad.Http.TrustedProxies.Add("10.0.0.5");
        bad.Http.TrustedProxies.Add("proxy.example.com");

        Assert.True(ValidateEndpoints(good).Succeeded);
        Assert.Equal(4, HttpEndpointOptions.ParseProxies(good.Http.TrustedProxies, out _)!.Count);
        var failure = Assert.Single(ValidateEndpoints(bad).Failures!);
        Assert.StartsWith("Fleet:Http:TrustedProxies:1: 'proxy.example.com'", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://fleet.example.com:5080", "host must be an IP address")]
    [InlineData("http://127.0.0.1:5080/api", "has a path")]
    [InlineData("not a url", "not an http")]
    public void HttpUrl_Problems_SayWhatIsAllowed(string url, string expected)
    {
        var options = Local(http: url);

        var failure = Assert.Single(ValidateEndpoints(options).Failures!);
        Assert.Contains(expected, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void SamePortForBothEndpoints_IsRefused()
    {
        var options = new FleetEndpointOptions
        {
            Http = new HttpEndpointOptions { Url = "http://127.0.0.1:6000" },
            Grpc = new GrpcEndpointOptions { Url = "http://127.0.0.1:6000" },
        };

        Assert.Contains("different ports", Assert.Single(ValidateEndpoints(options).Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void PlaintextHttpOnNonLoopback_IsRefusedNamingAllowPlaintext_AndAllowedWithIt()
    {
        var refused = Local(http: "http://0.0.0.0:5080");
        var allowed = Local(http: "http://0.0.0.0:5080");
        allowed.Http.AllowPlaintext = true;

        var failure = Assert.Single(ValidateEndpoints(refused).Failures!);

        Assert.StartsWith("Fleet:Http:Url:", failure, StringComparison.Ordinal);
        Assert.Contains("Fleet:Http:AllowPlaintext", failure, StringComparison.Ordinal);
        Assert.True(ValidateEndpoints(allowed).Succeeded);
    }

    [Fact]
    public void PlaintextHttpOnLoopback_IsRefusedWhenHttpAllowPlaintextIsFalse()
    {
        var options = Local();
        options.Http.AllowPlaintext = false;

        Assert.Contains("Fleet:Http:AllowPlaintext is false", Assert.Single(ValidateEndpoints(options).Failures!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-10, -1, "expired on")]
    [InlineData(1, 10, "is not valid yet")]
    public void ConfiguredCertificate_OutsideItsValidity_IsRefusedNamingTheKey(int fromDays, int toDays, string expected)
    {
        var now = DateTimeOffset.UtcNow;
        var (certificate, key) = WritePem(now.AddDays(fromDays), now.AddDays(toDays));
        var options = new FleetEndpointOptions { Tls = new TlsOptions { Certificate = new CertificateOptions { Path = certificate, KeyPath = key } } };

        var failure = Assert.Single(ValidateEndpoints(options, now: now).Failures!);

        Assert.StartsWith($"Fleet:Tls:Certificate:Path: '{certificate}' {expected}", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfiguredCertificate_ValidNow_IsAccepted_ForTlsAndForGrpc()
    {
        var now = DateTimeOffset.UtcNow;
        var (certificate, key) = WritePem(now.AddDays(-1), now.AddDays(90));
        var options = new FleetEndpointOptions
        {
            Tls = new TlsOptions { Certificate = new CertificateOptions { Path = certificate, KeyPath = key } },
            Grpc = new GrpcEndpointOptions { Url = "https://*:5081", Certificate = new CertificateOptions { Path = certificate, KeyPath = key } },
        };

        Assert.True(ValidateEndpoints(options, now: now).Succeeded);
    }

    [Fact]
    public void ConfiguredCertificate_ThatCannotBeOpenedOrHasNoKey_IsRefusedNamingTheKey()
    {
        var now = DateTimeOffset.UtcNow;
        var (certificate, _) = WritePem(now.AddDays(-1), now.AddDays(90));
        string garbage = Path.Combine(_folder, "garbage.pfx");
        File.WriteAllText(garbage, "not a certificate");
        var options = new FleetEndpointOptions
        {
            Tls = new TlsOptions { Certificate = new CertificateOptions { Path = garbage } },
            Grpc = new GrpcEndpointOptions { Url = "https://*:5081", Certificate = new CertificateOptions { Path = certificate } },
        };

        var failures = ValidateEndpoints(options, now: now).Failures!.ToList();

        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, f => f.StartsWith($"Fleet:Tls:Certificate:Path: cannot use '{garbage}'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith($"Fleet:Grpc:Certificate:Path: cannot use '{certificate}'", StringComparison.Ordinal));
    }

    [Fact]
    public void TlsSettings_Problems_AreListedWithTheirKeys()
    {
        var options = new FleetEndpointOptions
        {
            Tls = new TlsOptions
            {
                Certificate = new CertificateOptions { KeyPath = "/etc/fleet/key.pem" },
                Directory = "relative/tls",
                SubjectNames = ["fleet.example.com, 10.0.0.7", "not a name", "*.fleet.example.com"],
            },
        };

        var failures = ValidateEndpoints(options).Failures!.ToList();

        Assert.Equal(3, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("Fleet:Tls:Certificate:KeyPath is set without Fleet:Tls:Certificate:Path", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Fleet:Tls:Directory: 'relative/tls' is not an absolute path", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Fleet:Tls:SubjectNames: 'not a name'", StringComparison.Ordinal));
    }

    private (string Certificate, string Key) WritePem(DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=fleet.example.com", key, HashAlgorithmName.SHA256).CreateSelfSigned(notBefore, notAfter);
        string certificatePath = Path.Combine(_folder, $"{Guid.NewGuid():N}.pem");
        string keyPath = Path.Combine(_folder, $"{Guid.NewGuid():N}.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    [Fact]
    public void IngestOptions_ListEveryProblem()
    {
        var result = new IngestOptionsValidator().Validate(null, new IngestOptions
        {
            MaxMessageSize = 10,
            MaxSnapshotAge = TimeSpan.Zero,
            MaxClockSkew = TimeSpan.FromDays(-1),
        });

        Assert.Equal(3, result.Failures!.Count());
        Assert.All(result.Failures!, f => Assert.StartsWith("Fleet:Ingest:", f, StringComparison.Ordinal));
    }

    [Fact]
    public void AgentConfigOptions_ListEveryProblemWithItsKey()
    {
        var result = new AgentConfigOptionsValidator().Validate(null, new AgentConfigOptions
        {
            Interval = TimeSpan.FromMilliseconds(10),
            GroupingRules =
            [
                new GroupingRuleOptions { Field = "pid", Pattern = "x", ServiceTemplate = "y" },
                new GroupingRuleOptions { Field = "comm", Pattern = "(", ServiceTemplate = "" },
            ],
        });

        var failures = result.Failures!.ToList();
        Assert.Equal(3, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("Fleet:AgentConfig:Interval", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Fleet:AgentConfig:GroupingRules:0:Field", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Fleet:AgentConfig:GroupingRules:1:", StringComparison.Ordinal)
            && f.Contains("pattern", StringComparison.Ordinal) && f.Contains("service_template", StringComparison.Ordinal));
    }

    [Fact]
    public void ServerWithNonLoopbackPlaintextHttp_RefusesToStartNamingTheKey()
    {
        using var factory = new FleetServerFactory(new Dictionary<string, string?> { ["Fleet:Http:Url"] = "http://0.0.0.0:0" });

        var ex = Assert.ThrowsAny<Exception>(() => factory.Start());

        var validation = Assert.IsType<OptionsValidationException>(ex.GetBaseException() as OptionsValidationException ?? ex);
        var failure = Assert.Single(validation.Failures);
        Assert.StartsWith("Fleet:Http:Url: 'http://0.0.0.0:0' is plaintext http on an address that is not loopback", failure, StringComparison.Ordinal);
        Assert.Contains("Fleet:Http:AllowPlaintext", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void ServerWithNonLoopbackPlaintextGrpc_RefusesToStartNamingTheKeys()
    {
        using var factory = new FleetServerFactory(new Dictionary<string, string?>
        {
            ["Fleet:Grpc:Url"] = "http://0.0.0.0:0",
            ["Fleet:Http:Url"] = "http://127.0.0.1:0/oops",
        });

        var ex = Assert.ThrowsAny<Exception>(() => factory.Start());

        var validation = Assert.IsType<OptionsValidationException>(ex.GetBaseException() as OptionsValidationException ?? ex);
        Assert.Contains(validation.Failures, f => f.StartsWith("Fleet:Grpc:Url", StringComparison.Ordinal) && f.Contains("AllowPlaintext", StringComparison.Ordinal));
        Assert.Contains(validation.Failures, f => f.StartsWith("Fleet:Http:Url", StringComparison.Ordinal));
    }
}
