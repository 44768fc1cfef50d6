using System.Security.Cryptography;
using System.Text;
using Fleet.Server.Enrollment;
using Fleet.Server.Ingest;
using Fleet.Server.Storage;
using Fleet.Web.Data;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Server.Tests.Enrollment;

/// <summary><see cref="IEnrollmentAdmin"/> on real PostgreSQL, inside the real server.</summary>
public sealed class EnrollmentAdminTests(EnrollmentServerFixture fixture) : IClassFixture<EnrollmentServerFixture>
{
    private static readonly TimeSpan Timeout = EnrollmentServer.Timeout;

    private EnrollmentServer Server => fixture.Server;

    [Fact]
    public async Task CreateToken_ShowsItOnce_KeepsOnlyItsHash_AndRecordsWhoMadeIt()
    {
        string name = EnrollmentServer.UniqueName("web");

        var made = await Server.Admin.CreateTokenAsync(name, "alice", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(name, made.Name);
        Assert.StartsWith(EnrollmentTokens.Prefix, made.Secret, StringComparison.Ordinal);
        var stored = await Server.RowsAsync(
            "SELECT token_hash, created_by, revoked_at IS NULL FROM enrollment_tokens WHERE id = $1",
            r => (Hash: r.GetFieldValue<byte[]>(0), CreatedBy: r.GetString(1), Active: r.GetBoolean(2)), made.Id);
        var row = Assert.Single(stored);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(made.Secret)), row.Hash);
        Assert.Equal(("alice", true), (row.CreatedBy, row.Active));
        var listed = Assert.Single(await Server.Admin.ListTokensAsync(CancellationToken.None).WaitAsync(Timeout), t => t.Id == made.Id);
        Assert.Equal((name, "alice", (DateTimeOffset?)null, 0), (listed.Name, listed.CreatedBy, listed.RevokedAt, listed.Agents));
        var audit = Assert.Single(await Server.TokenAuditAsync(), a => a.Name == name);
        Assert.Equal(("alice", "created", made.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), (audit.Actor, audit.Action, audit.Id));
        Assert.DoesNotContain(made.Secret, audit.After!, StringComparison.Ordinal);
        Assert.DoesNotContain("hash", audit.After!, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("")]
    [InlineData("web servers")]
    [InlineData("web/1")]
    [InlineData("naïve")]
    [InlineData("x12345678901234567890123456789012345678901234567890123456789012345")]
    public async Task CreateToken_WithANameOutsideTheRules_IsRefusedUnderName_AndNothingIsStored(string name)
    {
        long before = await Server.ScalarAsync("SELECT count(*) FROM enrollment_tokens");

        var ex = await Assert.ThrowsAsync<AccessInvalidException>(() => Server.Admin.CreateTokenAsync(name, "alice", CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(["name"], ex.Errors.Keys);
        Assert.Equal(before, await Server.ScalarAsync("SELECT count(*) FROM enrollment_tokens"));
    }

    [Fact]
    public async Task CreateToken_WithTheNameOfAnUnrevokedToken_IsRefused_AndAfterItsRevocationTheNameIsFree()
    {
        string name = EnrollmentServer.UniqueName("db");
        var first = await Server.Admin.CreateTokenAsync(name, "alice", CancellationToken.None).WaitAsync(Timeout);

        var taken = await Assert.ThrowsAsync<AccessInvalidException>(() => Server.Admin.CreateTokenAsync(name, "bob", CancellationToken.None).WaitAsync(Timeout));
        Assert.Contains("not revoked", Assert.Single(taken.Errors["name"]), StringComparison.Ordinal);
        Assert.True(await Server.Admin.RevokeTokenAsync(first.Id, "alice", CancellationToken.None).WaitAsync(Timeout));
        var second = await Server.Admin.CreateTokenAsync(name, "bob", CancellationToken.None).WaitAsync(Timeout);

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(2, await Server.ScalarAsync("SELECT count(*) FROM enrollment_tokens WHERE name = $1", name));
    }

    [Fact]
    public async Task CreateToken_TwiceAtOnceWithOneName_MakesOneToken()
    {
        string name = EnrollmentServer.UniqueName("race");

        var attempts = await Task.WhenAll(Enumerable.Range(0, 4).Select(async i =>
        {
            try
            {
                await Server.Admin.CreateTokenAsync(name, $"admin{i}", CancellationToken.None).WaitAsync(Timeout);
                return true;
            }
            catch (AccessInvalidException)
            {
                return false;
            }
        }));

        Assert.Single(attempts, made => made);
        Assert.Equal(1, await Server.ScalarAsync("SELECT count(*) FROM enrollment_tokens WHERE name = $1", name));
    }

    [Fact]
    public async Task RevokeToken_IsAuditedOnce_AnUnknownIdIsFalse_AndRevokingAgainIsTrue()
    {
        string name = EnrollmentServer.UniqueName("old");
        var made = await Server.Admin.CreateTokenAsync(name, "alice", CancellationToken.None).WaitAsync(Timeout);

        Assert.True(await Server.Admin.RevokeTokenAsync(made.Id, "bob", CancellationToken.None).WaitAsync(Timeout));
        Assert.True(await Server.Admin.RevokeTokenAsync(made.Id, "carol", CancellationToken.None).WaitAsync(Timeout));
        Assert.False(await Server.Admin.RevokeTokenAsync(long.MaxValue, "bob", CancellationToken.None).WaitAsync(Timeout));

        var audit = (await Server.TokenAuditAsync()).Where(a => a.Name == name).Select(a => (a.Actor, a.Action)).ToList();
        Assert.Equal([("alice", "created"), ("bob", "revoked")], audit);
        var listed = Assert.Single(await Server.Admin.ListTokensAsync(CancellationToken.None).WaitAsync(Timeout), t => t.Id == made.Id);
        Assert.NotNull(listed.RevokedAt);
    }

    [Fact]
    public async Task ListTokens_CountsTheAgentsThatLastSaidHelloWithEach()
    {
        var a = await Server.Admin.CreateTokenAsync(EnrollmentServer.UniqueName("a"), "alice", CancellationToken.None).WaitAsync(Timeout);
        var b = await Server.Admin.CreateTokenAsync(EnrollmentServer.UniqueName("b"), "alice", CancellationToken.None).WaitAsync(Timeout);
        string moving = EnrollmentServer.UniqueName("agent-moving");
        using (var first = await RawAgent.ConnectAsync(Server.Grpc, a.Secret, EnrollmentServer.UniqueName("agent-a1")))
        using (var second = await RawAgent.ConnectAsync(Server.Grpc, a.Secret, EnrollmentServer.UniqueName("agent-a2")))
        using (var third = await RawAgent.ConnectAsync(Server.Grpc, a.Secret, moving))
        {
            await Task.WhenAll(first.CloseAsync(), second.CloseAsync(), third.CloseAsync()).WaitAsync(Timeout);
        }
        // The third agent says hello again with the other token: it counts there now.
        using (var again = await RawAgent.ConnectAsync(Server.Grpc, b.Secret, moving))
        {
            await again.CloseAsync().WaitAsync(Timeout);
        }

        var tokens = await Server.Admin.ListTokensAsync(CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(2, tokens.Single(t => t.Id == a.Id).Agents);
        Assert.Equal(1, tokens.Single(t => t.Id == b.Id).Agents);
    }

    [Fact]
    public async Task AProcessWithoutIngest_LikeTheCommandLine_MakesAndRevokesTokensWithTheSameRulesAndAudit()
    {
        // Storage and enrollment only, on the server's database: no stream registry in this process.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Fleet"] = Server.Database.ConnectionString })
            .Build();
        var services = new ServiceCollection().AddLogging();
        services.AddFleetStorage(configuration);
        services.AddEnrollment(configuration);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var admin = provider.GetRequiredService<IEnrollmentAdmin>();
        string name = EnrollmentServer.UniqueName("cli");

        var made = await admin.CreateTokenAsync(name, "command line", CancellationToken.None).WaitAsync(Timeout);
        await Assert.ThrowsAsync<AccessInvalidException>(() => admin.CreateTokenAsync(name, "command line", CancellationToken.None).WaitAsync(Timeout));
        Assert.True(await admin.RevokeTokenAsync(made.Id, "command line", CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal([("command line", "created"), ("command line", "revoked")], (await Server.TokenAuditAsync()).Where(a => a.Name == name).Select(a => (a.Actor, a.Action)));
        // An agent streaming to the server is connected there, not in this process, which has no streams.
        var other = await admin.CreateTokenAsync(EnrollmentServer.UniqueName("cli-agent"), "command line", CancellationToken.None).WaitAsync(Timeout);
        using var agent = await RawAgent.ConnectAsync(Server.Grpc, other.Secret, EnrollmentServer.UniqueName("cli-listed"));
        Assert.True(Assert.Single(await Server.Admin.ListAgentsAsync(CancellationToken.None).WaitAsync(Timeout), a => a.AgentId == agent.AgentId).Connected);
        Assert.False(Assert.Single(await admin.ListAgentsAsync(CancellationToken.None).WaitAsync(Timeout), a => a.AgentId == agent.AgentId).Connected);
        await agent.CloseAsync().WaitAsync(Timeout);
    }
}
