using Fleet.Server.Cli;
using Fleet.Server.Hosting;
using Fleet.Server.Ingest;
using Fleet.Server.Tests.Ingest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Fleet.Web.Data;

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
            builder.Services.RemoveAll<IEnrollmentAdmin>();
            builder.Services.AddSingleton<IEnrollmentAdmin>(new FakeEnrollmentAdmin(_store));
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

/// <summary>The user commands against a real PostgreSQL database (migrated by the command itself).</summary>
public sealed class UserCommandLineTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private Infrastructure.TestDatabase? _database;

    public async Task InitializeAsync() => _database = await Infrastructure.PostgresServer.CreateDatabaseAsync("cli").WaitAsync(Timeout);

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync().AsTask().WaitAsync(Timeout);
        }
    }

    private async Task<(int Exit, string Output, string Error)> RunAsync(string? input, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var reader = new StringReader(input ?? "");
        int exit = await ServerCommandLine.RunAsync([.. args, $"--ConnectionStrings:Fleet={_database!.ConnectionString}"], output, error, input: reader).WaitAsync(Timeout);
        return (exit, output.ToString(), error.ToString());
    }

    private Fleet.Server.Storage.FleetDbContext Db() => new(new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<Fleet.Server.Storage.FleetDbContext>()
        .UseNpgsql(_database!.ConnectionString).Options);

    [Fact]
    public async Task UsersCreate_WithPasswordFromStdin_MakesAnAdminWhoseHashMatches_AndListShowsIt()
    {
        var (exit, output, error) = await RunAsync("a long enough passphrase\n", "users", "create", "root", "--role", "admin", "--password-stdin");

        Assert.True(exit == 0, error);
        Assert.DoesNotContain("a long enough passphrase", output, StringComparison.Ordinal);
        await using (var db = Db())
        {
            var user = await db.Users.SingleAsync(u => u.UserName == "root").WaitAsync(Timeout);
            var verdict = new Microsoft.AspNetCore.Identity.PasswordHasher<Fleet.Server.Storage.Entities.FleetUserEntity>().VerifyHashedPassword(user, user.PasswordHash!, "a long enough passphrase");
            Assert.NotEqual(Microsoft.AspNetCore.Identity.PasswordVerificationResult.Failed, verdict);
            Assert.Equal(["admin"], await db.UserRoles.Where(r => r.UserId == user.Id).Select(r => r.RoleId).ToListAsync().WaitAsync(Timeout));
            Assert.Equal("command line", (await db.AuditLog.SingleAsync(a => a.Entity == "user").WaitAsync(Timeout)).Actor);
        }
        var (listExit, list, _) = await RunAsync(null, "users", "list");
        Assert.Equal(0, listExit);
        Assert.Contains("root", list, StringComparison.Ordinal);
        Assert.Contains("admin", list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UsersCreate_WithoutPassword_PrintsAGeneratedOneOnce_ThatSignsIn()
    {
        var (exit, output, error) = await RunAsync(null, "users", "create", "ops", "--role", "operator");

        Assert.True(exit == 0, error);
        string password = output.Split('\n').Select(l => l.Trim()).Single(l => l.Length == 20 && !l.Contains(' ', StringComparison.Ordinal));
        await using var db = Db();
        var user = await db.Users.SingleAsync(u => u.UserName == "ops").WaitAsync(Timeout);
        Assert.NotEqual(Microsoft.AspNetCore.Identity.PasswordVerificationResult.Failed,
            new Microsoft.AspNetCore.Identity.PasswordHasher<Fleet.Server.Storage.Entities.FleetUserEntity>().VerifyHashedPassword(user, user.PasswordHash!, password));
    }

    [Theory]
    [InlineData("users", "create", "x")]
    [InlineData("users", "create", "x", "--role", "root")]
    public async Task UsersCreate_WithoutAKnownRole_ExitsWith2(params string[] args)
    {
        var (exit, _, error) = await RunAsync(null, args);

        Assert.Equal(2, exit);
        Assert.Contains("--role", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UsersCreate_AShortPassword_IsRefusedWithTheReason()
    {
        var (exit, _, error) = await RunAsync("short\n", "users", "create", "weak", "--role", "viewer", "--password-stdin");

        Assert.Equal(2, exit);
        Assert.Contains("password", error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TokensCreate_RecordsTheCommandLineAsCreator()
    {
        var (exit, _, error) = await RunAsync(null, "tokens", "create", "racks");

        Assert.True(exit == 0, error);
        await using var db = Db();
        Assert.Equal("command line", (await db.EnrollmentTokens.SingleAsync(t => t.Name == "racks").WaitAsync(Timeout)).CreatedBy);
        Assert.True(await db.AuditLog.AnyAsync(a => a.Entity == "enrollment-token" && a.Actor == "command line").WaitAsync(Timeout));
    }

    [Fact]
    public async Task TokensRevoke_ByName_RevokesThatToken_AuditedAsTheCommandLine_AndAnUnknownNameFails()
    {
        var (created, _, createError) = await RunAsync(null, "tokens", "create", "old-racks");
        var (kept, _, _) = await RunAsync(null, "tokens", "create", "new-racks");
        var (revoked, output, revokeError) = await RunAsync(null, "tokens", "revoke", "old-racks");
        var (unknown, _, unknownError) = await RunAsync(null, "tokens", "revoke", "no-such-token");

        Assert.True(created == 0 && kept == 0, createError);
        Assert.True(revoked == 0, revokeError);
        Assert.Contains("old-racks", output, StringComparison.Ordinal);
        Assert.Equal(1, unknown);
        Assert.Contains("no-such-token", unknownError, StringComparison.Ordinal);
        await using var db = Db();
        Assert.NotNull((await db.EnrollmentTokens.SingleAsync(t => t.Name == "old-racks").WaitAsync(Timeout)).RevokedAt);
        Assert.Null((await db.EnrollmentTokens.SingleAsync(t => t.Name == "new-racks").WaitAsync(Timeout)).RevokedAt);
        Assert.True(await db.AuditLog.AnyAsync(a => a.Entity == "enrollment-token" && a.Action == "revoked" && a.Actor == "command line" && a.EntityName == "old-racks").WaitAsync(Timeout));
    }
}
