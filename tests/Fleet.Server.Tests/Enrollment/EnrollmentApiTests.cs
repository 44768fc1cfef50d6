using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Enrollment;

/// <summary>
/// <c>/api/enrollment-tokens</c> and <c>/api/agents</c> on the real server and PostgreSQL, signed in with a test
/// scheme that sets the role claim (the policies are the shared contract's, naming no scheme).
/// </summary>
public sealed class EnrollmentApiTests(EnrollmentServerFixture fixture) : IClassFixture<EnrollmentServerFixture>
{
    private static readonly TimeSpan Timeout = EnrollmentServer.Timeout;

    private EnrollmentServer Server => fixture.Server;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Admin_CreatesListsAndRevokesATokenOverTheApi_EachChangeAuditedUnderTheirName()
    {
        using var http = Server.Client("carol", FleetRoles.Admin);
        string name = EnrollmentServer.UniqueName("api");

        // Create: 201 with the token, which no cache may keep.
        using var created = await http.PostAsync("/api/enrollment-tokens", Json($$"""{"name":"{{name}}"}""")).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.True(created.Headers.CacheControl?.NoStore, "the response holding the token is not stored by caches");
        var secret = (await created.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Timeout));
        long id = secret.GetProperty("id").GetInt64();
        Assert.Equal(name, secret.GetProperty("name").GetString());
        Assert.StartsWith("fleet_", secret.GetProperty("secret").GetString(), StringComparison.Ordinal);

        // List: the token, its creator, never the secret.
        string list = await http.GetStringAsync("/api/enrollment-tokens").WaitAsync(Timeout);
        Assert.DoesNotContain(secret.GetProperty("secret").GetString()!, list, StringComparison.Ordinal);
        var listed = JsonDocument.Parse(list).RootElement.EnumerateArray().Single(t => t.GetProperty("id").GetInt64() == id);
        Assert.Equal("carol", listed.GetProperty("createdBy").GetString());
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("revokedAt").ValueKind);

        // Revoke: 204, then listed as revoked.
        using var revoked = await http.DeleteAsync($"/api/enrollment-tokens/{id}").WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        var after = (await http.GetFromJsonAsync<JsonElement>("/api/enrollment-tokens").WaitAsync(Timeout))
            .EnumerateArray().Single(t => t.GetProperty("id").GetInt64() == id);
        Assert.Equal(JsonValueKind.String, after.GetProperty("revokedAt").ValueKind);
        var audit = (await Server.TokenAuditAsync()).Where(a => a.Name == name).Select(a => (a.Actor, a.Action)).ToList();
        Assert.Equal([("carol", "created"), ("carol", "revoked")], audit);
    }

    [Theory]
    [InlineData("""{"name":"has space"}""", "name")]
    [InlineData("""{"name":""}""", "name")]
    [InlineData("""{}""", "name")]
    [InlineData("""{"name":42}""", "name")]
    [InlineData("""not json""", "body")]
    public async Task CreateToken_WithABadBody_Is400WithTheErrorUnderItsField(string body, string field)
    {
        using var http = Server.Client("carol", FleetRoles.Admin);

        using var response = await http.PostAsync("/api/enrollment-tokens", Json(body)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Timeout);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), problem.ToString());
        Assert.NotEmpty(messages.EnumerateArray());
    }

    [Fact]
    public async Task RevokeToken_WithAnUnknownId_Is404()
    {
        using var http = Server.Client("carol", FleetRoles.Admin);

        using var response = await http.DeleteAsync($"/api/enrollment-tokens/{long.MaxValue}").WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("no enrollment token with id", await response.Content.ReadAsStringAsync().WaitAsync(Timeout), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized)]
    [InlineData(FleetRoles.Viewer, HttpStatusCode.Forbidden, HttpStatusCode.OK)]
    [InlineData(FleetRoles.Operator, HttpStatusCode.Forbidden, HttpStatusCode.OK)]
    [InlineData(FleetRoles.Admin, HttpStatusCode.OK, HttpStatusCode.OK)]
    public async Task Tokens_AreForAdminsOnly_AndTheAgentListForEverySignedInRole(string? role, HttpStatusCode tokens, HttpStatusCode agents)
    {
        using var http = Server.Client(role is null ? null : "dave", role);

        using var list = await http.GetAsync("/api/enrollment-tokens").WaitAsync(Timeout);
        using var agentList = await http.GetAsync("/api/agents").WaitAsync(Timeout);

        Assert.Equal(tokens, list.StatusCode);
        Assert.Equal(agents, agentList.StatusCode);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData(FleetRoles.Viewer, HttpStatusCode.Forbidden)]
    [InlineData(FleetRoles.Operator, HttpStatusCode.Forbidden)]
    public async Task CreatingOrRevokingATokenWithoutTheAdminRole_IsRefused_AndChangesNothing(string? role, HttpStatusCode expected)
    {
        var existing = await Server.Admin.CreateTokenAsync(EnrollmentServer.UniqueName("kept"), "alice", CancellationToken.None).WaitAsync(Timeout);
        string name = EnrollmentServer.UniqueName("refused");
        using var http = Server.Client(role is null ? null : "eve", role);

        using var create = await http.PostAsync("/api/enrollment-tokens", Json($$"""{"name":"{{name}}"}""")).WaitAsync(Timeout);
        using var revoke = await http.DeleteAsync($"/api/enrollment-tokens/{existing.Id}").WaitAsync(Timeout);

        Assert.Equal((expected, expected), (create.StatusCode, revoke.StatusCode));
        Assert.Equal(0, await Server.ScalarAsync("SELECT count(*) FROM enrollment_tokens WHERE name = $1", name));
        Assert.Equal(1, await Server.ScalarAsync("SELECT count(*) FROM enrollment_tokens WHERE id = $1 AND revoked_at IS NULL", existing.Id));
    }

    [Fact]
    public async Task AgentList_ShowsAStreamingAgentWithItsVersionAddressAndToken()
    {
        var token = await Server.Admin.CreateTokenAsync(EnrollmentServer.UniqueName("seen"), "alice", CancellationToken.None).WaitAsync(Timeout);
        using var agent = await RawAgent.ConnectAsync(Server.Grpc, token.Secret, $"api-agent-{Guid.NewGuid():N}");
        await agent.SendAndAckAsync(1).WaitAsync(Timeout);
        using var http = Server.Client("victor", FleetRoles.Viewer);

        var agents = await http.GetFromJsonAsync<JsonElement>("/api/agents").WaitAsync(Timeout);

        var listed = agents.EnumerateArray().Single(a => a.GetProperty("agentId").GetString() == agent.AgentId);
        Assert.Equal(RawAgent.Version, listed.GetProperty("version").GetString());
        Assert.StartsWith("127.0.0.1:", listed.GetProperty("peerAddress").GetString(), StringComparison.Ordinal);
        Assert.Equal(token.Name, listed.GetProperty("tokenName").GetString());
        Assert.True(listed.GetProperty("connected").GetBoolean());
        Assert.True(listed.TryGetProperty("lastSeen", out _));
        await agent.CloseAsync().WaitAsync(Timeout);
    }
}
