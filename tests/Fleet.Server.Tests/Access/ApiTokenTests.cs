using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Fleet.Server.Access;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Fleet.Server.Tests.Access.AccessServer;

namespace Fleet.Server.Tests.Access;

/// <summary>Personal API tokens against the real server: what they may do, and every way they stop working.</summary>
public sealed class ApiTokenTests(AccessServer server) : IClassFixture<AccessServer>
{
    [Fact]
    public async Task Token_ActsAsItsUser_WithTheCurrentRole_AndTheAuditNamesTheToken()
    {
        var user = await server.CreateUserAsync(FleetRoles.Operator);
        string token = await server.CreateTokenAsync(user, "ci-script");
        using var client = Bearer(token);

        var me = await MeAsync(client);
        Assert.Equal(user.UserName, me.GetProperty("userName").GetString());
        Assert.Equal(FleetRoles.Operator, me.GetProperty("role").GetString());
        Assert.Equal("ci-script", me.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(client, "/api/users")).StatusCode);

        await server.Services.GetRequiredService<IUserAdmin>().SetRoleAsync(user.Id, FleetRoles.Admin, "test", CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal(FleetRoles.Admin, (await MeAsync(client)).GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/api/users")).StatusCode);

        // No antiforgery token: a bearer call cannot be forged by a browser.
        using var created = await client.PostAsJsonAsync(new Uri("/api/me/tokens", UriKind.Relative), new { name = "second", lifetimeDays = 30 }).WaitAsync(Deadline);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string secret = (await created.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline)).GetProperty("secret").GetString()!;
        Assert.StartsWith(ApiTokenSecrets.Prefix, secret, StringComparison.Ordinal);
        await using var db = server.Db();
        var audit = await db.AuditLog.SingleAsync(a => a.Entity == "api-token" && a.EntityName == "second").WaitAsync(Deadline);
        Assert.Equal($"{user.UserName} (token ci-script)", audit.Actor);
        Assert.DoesNotContain(secret, audit.After, StringComparison.Ordinal);
        var stored = await db.ApiTokens.SingleAsync(t => t.UserId == user.Id && t.Name == "second").WaitAsync(Deadline);
        Assert.Equal(ApiTokenSecrets.Hash(secret), stored.TokenHash);
        Assert.NotNull(stored.ExpiresAt);
    }

    [Fact]
    public async Task Token_RecordsWhenItWasLastUsed()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        string token = await server.CreateTokenAsync(user);
        using var client = Bearer(token);

        await MeAsync(client);

        var view = Assert.Single(await server.Services.GetRequiredService<IApiTokens>().ListAsync(user.Id, CancellationToken.None).WaitAsync(Deadline));
        Assert.NotNull(view.LastUsedAt);
    }

    [Fact]
    public async Task RevokedToken_IsRefused()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        string token = await server.CreateTokenAsync(user);
        using var client = Bearer(token);
        long id = (await server.Services.GetRequiredService<IApiTokens>().ListAsync(user.Id, CancellationToken.None).WaitAsync(Deadline)).Single().Id;
        await MeAsync(client);

        using var revoke = await client.DeleteAsync(new Uri($"/api/me/tokens/{id}", UriKind.Relative)).WaitAsync(Deadline);

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/me")).StatusCode);
        await using var db = server.Db();
        Assert.True(await db.AuditLog.AnyAsync(a => a.Entity == "api-token" && a.Action == "revoked" && a.EntityId == id.ToString()).WaitAsync(Deadline));
    }

    [Fact]
    public async Task ExpiredToken_IsRefused()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        string token = await server.CreateTokenAsync(user, lifetime: TimeSpan.FromDays(1));
        using var client = Bearer(token);
        await MeAsync(client);
        await using var db = server.Db();

        await db.ApiTokens.Where(t => t.UserId == user.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(-1))).WaitAsync(Deadline);

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/me")).StatusCode);
    }

    [Fact]
    public async Task Token_OfADisabledUser_IsRefused()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        string token = await server.CreateTokenAsync(user);
        using var client = Bearer(token);
        await MeAsync(client);

        await server.Services.GetRequiredService<IUserAdmin>().SetDisabledAsync(user.Id, true, "test", CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/me")).StatusCode);
    }

    [Fact]
    public async Task Token_OfALockedOutUser_IsRefused()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        string token = await server.CreateTokenAsync(user);
        using var client = Bearer(token);
        await using var db = server.Db();

        await db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.LockoutEnd, DateTimeOffset.UtcNow.AddMinutes(5))).WaitAsync(Deadline);

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/me")).StatusCode);
    }

    [Theory]
    [InlineData("fleet_pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("not-a-fleet-token")]
    public async Task UnknownOrMalformedToken_Gets401WithABearerChallenge(string token)
    {
        using var client = Bearer(token);

        using var response = await GetAsync(client, "/api/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Hub_AcceptsTheTokenInTheQuery_TheApiDoesNot()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        string token = await server.CreateTokenAsync(user);
        using var client = server.NewClient();

        using var hub = await client.PostAsync(new Uri($"/hubs/fleet/negotiate?negotiateVersion=1&access_token={token}", UriKind.Relative), null).WaitAsync(Deadline);
        using var api = await GetAsync(client, $"/api/me?access_token={token}");

        Assert.Equal(HttpStatusCode.OK, hub.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task CreateToken_BadInput_Is400WithTheProblemUnderItsField()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        using var client = Bearer(await server.CreateTokenAsync(user));

        using var noName = await client.PostAsJsonAsync(new Uri("/api/me/tokens", UriKind.Relative), new { name = "" }).WaitAsync(Deadline);
        using var badLifetime = await client.PostAsJsonAsync(new Uri("/api/me/tokens", UriKind.Relative), new { name = "x", lifetimeDays = 0 }).WaitAsync(Deadline);

        Assert.Equal(HttpStatusCode.BadRequest, noName.StatusCode);
        Assert.True((await noName.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline)).GetProperty("errors").TryGetProperty("name", out _));
        Assert.Equal(HttpStatusCode.BadRequest, badLifetime.StatusCode);
        Assert.True((await badLifetime.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline)).GetProperty("errors").TryGetProperty("lifetimeDays", out _));
    }

    [Fact]
    public async Task RevokingAnotherUsersToken_IsNotFound_AndTheTokenKeepsWorking()
    {
        var owner = await server.CreateUserAsync(FleetRoles.Viewer);
        var other = await server.CreateUserAsync(FleetRoles.Viewer);
        string ownerToken = await server.CreateTokenAsync(owner);
        long ownerTokenId = (await server.Services.GetRequiredService<IApiTokens>().ListAsync(owner.Id, CancellationToken.None).WaitAsync(Deadline)).Single().Id;
        using var otherClient = Bearer(await server.CreateTokenAsync(other));

        using var response = await otherClient.DeleteAsync(new Uri($"/api/me/tokens/{ownerTokenId}", UriKind.Relative)).WaitAsync(Deadline);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var ownerClient = Bearer(ownerToken);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(ownerClient, "/api/me")).StatusCode);
    }

    private HttpClient Bearer(string token)
    {
        var client = server.NewClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<JsonElement> MeAsync(HttpClient client)
    {
        using var response = await GetAsync(client, "/api/me");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline);
    }
}
