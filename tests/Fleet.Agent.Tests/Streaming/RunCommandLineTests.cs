using Fleet.Agent.Cli;

namespace Fleet.Agent.Tests.Streaming;

public sealed class RunCommandLineTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private const string Pin = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

    private static AgentOptions Parse(string[] args, string? fleetToken = null, string? fingerprint = null) =>
        AgentOptions.Parse(args, name => name switch
        {
            "FLEET_TOKEN" => fleetToken,
            "FLEET_SERVER_FINGERPRINT" => fingerprint,
            _ => null,
        });

    [Fact]
    public void ServerFingerprint_FromTheOptionOrTheEnvironment_ReachesTheRunnerAndTheSimulator()
    {
        var fromOption = Parse(["run", "--server", "https://f:1", "--token", "t", "--state-dir", _folder.Path, "--server-fingerprint", Pin.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant()]);
        var fromEnvironment = Parse(["simulate", "--hosts", "1", "--server", "https://f:1", "--token", "t"], fingerprint: Pin);

        Assert.Equal(Pin.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant(), fromOption.ToRunnerOptions().ServerFingerprint);
        Assert.Empty(fromOption.ToRunnerOptions().Validate());
        Assert.Equal(Pin, fromEnvironment.ToSimulatorOptions().ServerFingerprint);
        Assert.Empty(fromEnvironment.ToSimulatorOptions().Validate());
    }

    [Fact]
    public void ServerFingerprint_OptionWinsOverTheEnvironment()
    {
        string other = Pin.Replace("00", "FF", StringComparison.Ordinal);

        var o = Parse(["run", "--server", "https://f:1", "--token", "t", "--state-dir", _folder.Path, "--server-fingerprint", Pin], fingerprint: other);

        Assert.Equal(Pin, o.ServerFingerprint);
    }

    [Theory]
    [InlineData("--server-fingerprint", "abc", null, "--server-fingerprint: 'abc' has 3 hexadecimal digits")]
    [InlineData(null, null, "xyz", "FLEET_SERVER_FINGERPRINT: 'xyz' has 3 hexadecimal digits")]
    public void ServerFingerprint_ThatIsNotOne_ExitsTwoNamingWhereItCameFrom(string? option, string? value, string? environment, string message)
    {
        var error = new StringWriter();
        string[] args = option is null
            ? ["run", "--server", "https://f:1", "--token", "t", "--state-dir", _folder.Path]
            : ["run", "--server", "https://f:1", "--token", "t", "--state-dir", _folder.Path, option, value!];

        int code = AgentCommandLine.Run(args, new StringReader(""), new StringWriter(), error, CancellationToken.None,
            name => name == "FLEET_SERVER_FINGERPRINT" ? environment : null);

        Assert.Equal(2, code);
        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ServerFingerprint_WithACaFileOrPlaintext_IsRefusedNamingBoth()
    {
        string ca = Path.Combine(_folder.Path, "ca.pem");
        File.WriteAllText(ca, "");

        var both = Assert.Throws<UsageException>(() => Parse(["run", "--server", "https://f:1", "--token", "t", "--state-dir", _folder.Path, "--server-fingerprint", Pin, "--ca-file", ca]));
        var plaintext = Assert.Throws<UsageException>(() => Parse(["run", "--server", "http://127.0.0.1:1", "--token", "t", "--state-dir", _folder.Path, "--server-fingerprint", Pin]));

        Assert.Contains("--server-fingerprint and --ca-file", both.Message, StringComparison.Ordinal);
        Assert.Contains("not https://", plaintext.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WithEveryOption_IsParsedIntoTheRunnersOptions()
    {
        var o = Parse(["run", "--server", "https://fleet.example:7443", "--token", "abc", "--state-dir", _folder.Path, "--interval", "30s", "--procfs", "/proc/"]);

        var runner = o.ToRunnerOptions();
        Assert.Equal(new Uri("https://fleet.example:7443"), runner.ServerAddress);
        Assert.Equal("abc", runner.EnrollmentToken);
        Assert.Equal(_folder.Path, runner.StateDirectory);
        Assert.Equal(TimeSpan.FromSeconds(30), runner.Interval);
        Assert.Equal("/proc", runner.ProcRoot);
        Assert.Empty(runner.Validate());
    }

    [Fact]
    public void Run_TokenFromAFileOrTheEnvironment()
    {
        string file = Path.Combine(_folder.Path, "token");
        File.WriteAllText(file, "from-file\n");

        var fromFile = Parse(["run", "--server", "https://f:1", "--token-file", file, "--state-dir", _folder.Path]);
        var fromEnvironment = Parse(["run", "--server", "https://f:1", "--state-dir", _folder.Path], fleetToken: "from-env");

        Assert.Equal("from-file", fromFile.Token);
        Assert.Equal("from-env", fromEnvironment.Token);
    }

    [Theory]
    [InlineData("1500ms", 1.5)]
    [InlineData("10s", 10)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    [InlineData("15", 15)]
    public void Interval_AcceptsUnits(string text, double seconds)
    {
        var o = Parse(["run", "--server", "https://f:1", "--token", "t", "--state-dir", _folder.Path, "--interval", text]);

        Assert.Equal(TimeSpan.FromSeconds(seconds), o.Interval);
    }

    [Theory]
    [InlineData(new[] { "run", "--token", "t", "--state-dir", "/tmp/x" }, "run needs --server URL")]
    [InlineData(new[] { "run", "--server", "https://f:1", "--state-dir", "/tmp/x" }, "needs the enrollment token")]
    [InlineData(new[] { "run", "--server", "https://f:1", "--token", "t" }, "run needs --state-dir")]
    [InlineData(new[] { "run", "--server", "http://10.1.2.3:7443", "--token", "t", "--state-dir", "/tmp/x" }, "--allow-plaintext")]
    [InlineData(new[] { "run", "--server", "https://f:1", "--token", "t", "--state-dir", "/tmp/x", "--interval", "0s" }, "--interval takes a duration from 1s to 1h")]
    [InlineData(new[] { "run", "--server", "https://f:1", "--token", "t", "--token-file", "/x", "--state-dir", "/tmp/x" }, "either --token or --token-file")]
    [InlineData(new[] { "simulate", "--server", "https://f:1", "--token", "t" }, "simulate needs --hosts N")]
    [InlineData(new[] { "simulate", "--hosts", "0", "--server", "https://f:1", "--token", "t" }, "--hosts takes a whole number from 1 to 10000")]
    [InlineData(new[] { "simulate", "--hosts", "2", "--server", "https://f:1", "--token", "t", "--speed", "-1" }, "--speed takes a positive number")]
    public void BadArguments_ExitTwoNamingTheProblem(string[] args, string message)
    {
        var error = new StringWriter();

        int code = AgentCommandLine.Run(args, new StringReader(""), new StringWriter(), error, CancellationToken.None, _ => null);

        Assert.Equal(2, code);
        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void PlaintextToANonLoopbackServer_IsAllowedOnlyWhenAskedFor()
    {
        var o = Parse(["run", "--server", "http://10.1.2.3:7443", "--token", "t", "--state-dir", _folder.Path, "--allow-plaintext"]);

        Assert.True(o.ToRunnerOptions().AllowPlaintext);
    }

    [Fact]
    public void Simulate_DefaultsItsStateFolderFromTheSeed()
    {
        var o = Parse(["simulate", "--hosts", "3", "--server", "http://127.0.0.1:7443", "--token", "t", "--seed", "42", "--speed", "60"]);

        var options = o.ToSimulatorOptions();
        Assert.Equal(3, options.Hosts);
        Assert.Equal(42, options.Seed);
        Assert.Equal(60, options.Speed);
        Assert.EndsWith("fleet-simulate-42", options.StateDirectory, StringComparison.Ordinal);
    }

    [Fact]
    public void Usage_DescribesRunSimulateAndThePlaintextRule()
    {
        Assert.Contains("fleet-agent run --server URL", AgentCommandLine.Usage, StringComparison.Ordinal);
        Assert.Contains("fleet-agent simulate --hosts N", AgentCommandLine.Usage, StringComparison.Ordinal);
        Assert.Contains("--allow-plaintext", AgentCommandLine.Usage, StringComparison.Ordinal);
        Assert.Contains("loopback", AgentCommandLine.Usage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_AgainstAServer_StreamsUntilStoppedAndExitsZero()
    {
        await using var server = await FakeIngestServer.StartAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var error = new StringWriter();
        string[] args = ["run", "--server", server.Address.ToString(), "--state-dir", _folder.Path, "--interval", "1s"];

        var running = Task.Run(() => AgentCommandLine.Run(args, new StringReader(""), new StringWriter(), TextWriter.Synchronized(error), stop.Token, name => name == "FLEET_TOKEN" ? "token" : null));
        await Eventually.WaitUntil(() => server.State.Committed.Count >= 1, "a snapshot is stored");
        await stop.CancelAsync();
        int code = await running.WaitAsync(Eventually.Timeout);

        Assert.Equal(0, code);
        Assert.Contains("connected to", error.ToString(), StringComparison.Ordinal);
    }
}
