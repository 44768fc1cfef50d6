using Fleet.Server.Cli;
using Fleet.Server.Hosting;
using Fleet.Server.Ingest;
using Fleet.Server.Tests.Ingest;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Fleet.Server.Tests.Hosting;

public sealed class ServerCommandLineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly FakeIngestStore _store = new();

    private async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        string[] withDatabase = [.. args, $"--ConnectionStrings:Fleet={FleetServerFactory.UnreachableDatabase}"];
        int exit = await ServerCommandLine.RunAsync(withDatabase, output, error, builder =>
        {
            // No database here: nothing to migrate, the fake stores the tokens.
            builder.Services.RemoveAll<MigrateDatabase>();
            builder.Services.RemoveAll<IIngestStore>();
            builder.Services.RemoveAll<IEnrollmentTokenCatalog>();
            builder.Services.AddSingleton<IIngestStore>(_store);
            builder.Services.AddSingleton<IEnrollmentTokenCatalog>(_store);
        }).WaitAsync(Timeout);
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("tokens", "create", "ci")]
    [InlineData("tokens", "list")]
    [InlineData("help")]
    public void IsCommand_RecognisesCommands(params string[] args)
    {
        Assert.True(ServerCommandLine.IsCommand(args));
    }

    [Fact]
    public void IsCommand_ServerOptions_AreNotCommands()
    {
        Assert.False(ServerCommandLine.IsCommand(["--urls", "http://127.0.0.1:1"]));
        Assert.False(ServerCommandLine.IsCommand([]));
    }

    [Fact]
    public async Task TokensCreate_PrintsTheTokenOnce_AndStoresOnlyItsHash()
    {
        var (exit, output, _) = await RunAsync("tokens", "create", "web-servers");

        Assert.Equal(0, exit);
        string token = output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(EnrollmentTokens.Prefix, StringComparison.Ordinal));
        Assert.Contains("will not be shown again", output, StringComparison.Ordinal);
        Assert.Equal(49, token.Length);
        var found = await _store.FindTokenAsync(EnrollmentTokens.Hash(token), CancellationToken.None);
        Assert.Equal("web-servers", found?.Name);
    }

    [Fact]
    public async Task TokensList_ShowsNamesButNeverTokens()
    {
        string secret = _store.AddKnownToken("db-hosts");
        _store.AddKnownToken("old", revoked: true);

        var (exit, output, _) = await RunAsync("tokens", "list");

        Assert.Equal(0, exit);
        Assert.Contains("db-hosts", output, StringComparison.Ordinal);
        Assert.Contains("revoked", output, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tokens")]
    [InlineData("tokens", "delete", "x")]
    [InlineData("tokens", "create", "bad name!")]
    public async Task BadUsage_ExitsWith2AndSaysWhy(params string[] args)
    {
        var (exit, _, error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.NotEmpty(error);
    }

    [Fact]
    public async Task Help_PrintsUsage()
    {
        var (exit, output, _) = await RunAsync("help");

        Assert.Equal(0, exit);
        Assert.Contains("tokens create NAME", output, StringComparison.Ordinal);
    }
}
