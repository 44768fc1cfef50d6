using Fleet.Server.Hosting;
using Fleet.Server.Ingest;
using Fleet.Server.LocalAgent;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Tests.Hosting;

public sealed class OptionsValidationTests
{
    private static ValidateOptionsResult ValidateEndpoints(FleetEndpointOptions options, bool? allowPlaintext = null) =>
        new FleetEndpointOptionsValidator(Options.Create(new IngestOptions { AllowPlaintext = allowPlaintext })).Validate(null, options);

    [Fact]
    public void Defaults_AreValid()
    {
        Assert.True(ValidateEndpoints(new FleetEndpointOptions()).Succeeded);
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
        var options = new FleetEndpointOptions { Grpc = new GrpcEndpointOptions { Url = "http://0.0.0.0:5081" } };

        var result = ValidateEndpoints(options);

        var failure = Assert.Single(result.Failures!);
        Assert.Contains("Fleet:Ingest:AllowPlaintext", failure, StringComparison.Ordinal);
        Assert.Contains("https://", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void PlaintextGrpcOnNonLoopback_IsAllowedWithAllowPlaintext()
    {
        var options = new FleetEndpointOptions { Grpc = new GrpcEndpointOptions { Url = "http://*:5081" } };

        Assert.True(ValidateEndpoints(options, allowPlaintext: true).Succeeded);
    }

    [Fact]
    public void PlaintextGrpcOnLoopback_IsRefusedWhenAllowPlaintextIsFalse()
    {
        Assert.False(ValidateEndpoints(new FleetEndpointOptions(), allowPlaintext: false).Succeeded);
    }

    [Theory]
    [InlineData("http://fleet.example.com:5080", "host must be an IP address")]
    [InlineData("http://127.0.0.1:5080/api", "has a path")]
    [InlineData("not a url", "not an http")]
    public void HttpUrl_Problems_SayWhatIsAllowed(string url, string expected)
    {
        var options = new FleetEndpointOptions { Http = new HttpEndpointOptions { Url = url } };

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
