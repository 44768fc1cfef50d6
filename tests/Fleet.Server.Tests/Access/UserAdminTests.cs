using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fleet.Server.Access;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Fleet.Server.Tests.Access.AccessServer;

namespace Fleet.Server.Tests.Access;

/// <summary>Users and roles through IUserAdmin and /api/users on PostgreSQL.</summary>
public sealed class UserAdminTests(AccessServer server) : IClassFixture<AccessServer>
{
    private IUserAdmin Admin => server.Services.GetRequiredService<IUserAdmin>();

    [Fact]
    public async Task Create_RefusesAShortPasswordAnUnknownRoleAndATakenName_EachUnderItsField()
    {
        var taken = await server.CreateUserAsync(FleetRoles.Viewer);

        var bad = await Assert.ThrowsAsync<AccessInvalidException>(() => Admin.CreateAsync("fresh-name", "too short", "root", "test", CancellationToken.None)).WaitAsync(Deadline);
        var duplicate = await Assert.ThrowsAsync<AccessInvalidException>(() => Admin.CreateAsync(taken.UserName, GoodPassword, FleetRoles.Viewer, "test", CancellationToken.None)).WaitAsync(Deadline);

        Assert.Contains("password", bad.Errors.Keys);
        Assert.Contains("role", bad.Errors.Keys);
        Assert.Equal(["userName"], duplicate.Errors.Keys);
    }

    [Fact]
    public async Task Create_AcceptsALongPasswordWithoutCompositionRules_AndGivesExactlyOneRole()
    {
        var user = await Admin.CreateAsync("plain-" + Guid.NewGuid().ToString("N")[..6], "alllowercaseletters", FleetRoles.Operator, "test", CancellationToken.None).WaitAsync(Deadline);

        await Admin.SetRoleAsync(user.Id, FleetRoles.Viewer, "test", CancellationToken.None).WaitAsync(Deadline);

        await using var db = server.Db();
        Assert.Equal([FleetRoles.Viewer], await db.UserRoles.Where(r => r.UserId == user.Id).Select(r => r.RoleId).ToListAsync().WaitAsync(Deadline));
        Assert.True(await db.Users.Where(u => u.Id == user.Id).Select(u => u.LockoutEnabled).SingleAsync().WaitAsync(Deadline));
        Assert.Equal(2, await db.AuditLog.CountAsync(a => a.Entity == "user" && a.EntityId == user.Id).WaitAsync(Deadline));
    }

    [Fact]
    public async Task SetPassword_ReplacesTheOldOne_AndEndsALockout()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        await using (var db = server.Db())
        {
            await db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.LockoutEnd, DateTimeOffset.UtcNow.AddMinutes(5))).WaitAsync(Deadline);
        }

        var changed = await Admin.SetPasswordAsync(user.Id, "a brand new passphrase", "test", CancellationToken.None).WaitAsync(Deadline);

        Assert.False(changed!.LockedOut);
        using var client = server.NewClient();
        using var old = await PostSignInAsync(client, user.UserName, GoodPassword);
        Assert.Equal("/signin?error=invalid", old.Headers.Location?.OriginalString);
        await SignInAsync(client, user.UserName, "a brand new passphrase");
    }

    [Fact]
    public async Task UnknownUser_IsNullOrFalse()
    {
        Assert.Null(await Admin.SetRoleAsync("no-such-id", FleetRoles.Viewer, "test", CancellationToken.None).WaitAsync(Deadline));
        Assert.Null(await Admin.SetDisabledAsync("no-such-id", true, "test", CancellationToken.None).WaitAsync(Deadline));
        Assert.False(await Admin.DeleteAsync("no-such-id", "test", CancellationToken.None).WaitAsync(Deadline));
    }

    [Fact]
    public async Task UsersApi_CreatesChangesAndDeletes_WithFieldErrorsOnBadInput()
    {
        var admin = await server.CreateUserAsync(FleetRoles.Admin);
        using var client = server.NewClient();
        await SignInAsync(client, admin.UserName);
        string antiforgery = await AntiforgeryTokenAsync(client);
        string name = "api-" + Guid.NewGuid().ToString("N")[..6];

        using var bad = await SendAsync(client, antiforgery, HttpMethod.Post, "/api/users", new { userName = name, password = "short", role = "viewer" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline)).GetProperty("errors").TryGetProperty("password", out _));

        using var created = await SendAsync(client, antiforgery, HttpMethod.Post, "/api/users", new { userName = name, password = GoodPassword, role = "viewer" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string id = (await created.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline)).GetProperty("id").GetString()!;

        using var role = await SendAsync(client, antiforgery, HttpMethod.Put, $"/api/users/{id}/role", new { role = "operator" });
        Assert.Equal(HttpStatusCode.OK, role.StatusCode);
        Assert.Equal("operator", (await role.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline)).GetProperty("role").GetString());
        using var disabled = await SendAsync(client, antiforgery, HttpMethod.Put, $"/api/users/{id}/disabled", new { disabled = true });
        Assert.True((await disabled.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline)).GetProperty("disabled").GetBoolean());
        using var deleted = await SendAsync(client, antiforgery, HttpMethod.Delete, $"/api/users/{id}", null);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await SendAsync(client, antiforgery, HttpMethod.Put, $"/api/users/{id}/role", new { role = "viewer" });
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        await using var db = server.Db();
        var actions = await db.AuditLog.Where(a => a.Entity == "user" && a.EntityId == id).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync().WaitAsync(Deadline);
        Assert.Equal(["created", "updated", "disabled", "deleted"], actions);
        Assert.True(await db.AuditLog.Where(a => a.EntityId == id).AllAsync(a => a.Actor == admin.UserName).WaitAsync(Deadline));
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string antiforgery, HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add(AccessServiceCollectionExtensions.AntiforgeryHeader, antiforgery);
        return await client.SendAsync(request).WaitAsync(Deadline);
    }
}

/// <summary>A database where the tests control how many admins there are.</summary>
public sealed class LastAdminServer : AccessServer;

/// <summary>The last enabled admin can be neither demoted, disabled nor deleted.</summary>
public sealed class LastAdminTests(LastAdminServer server) : IClassFixture<LastAdminServer>
{
    [Fact]
    public async Task LastEnabledAdmin_CannotBeDemotedDisabledOrDeleted_UntilAnotherAdminExists()
    {
        var admin = server.Services.GetRequiredService<IUserAdmin>();
        var only = await server.CreateUserAsync(FleetRoles.Admin);
        var disabledAdmin = await server.CreateUserAsync(FleetRoles.Admin);
        await admin.SetDisabledAsync(disabledAdmin.Id, true, "test", CancellationToken.None).WaitAsync(Deadline);

        var demote = await Assert.ThrowsAsync<AccessInvalidException>(() => admin.SetRoleAsync(only.Id, FleetRoles.Operator, "test", CancellationToken.None)).WaitAsync(Deadline);
        var disable = await Assert.ThrowsAsync<AccessInvalidException>(() => admin.SetDisabledAsync(only.Id, true, "test", CancellationToken.None)).WaitAsync(Deadline);
        await Assert.ThrowsAsync<AccessInvalidException>(() => admin.DeleteAsync(only.Id, "test", CancellationToken.None)).WaitAsync(Deadline);
        Assert.Contains("last enabled admin", demote.Message, StringComparison.Ordinal);
        Assert.Equal(["disabled"], disable.Errors.Keys);

        await admin.SetDisabledAsync(disabledAdmin.Id, false, "test", CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal(FleetRoles.Operator, (await admin.SetRoleAsync(only.Id, FleetRoles.Operator, "test", CancellationToken.None).WaitAsync(Deadline))!.Role);
        Assert.Equal(FleetRoles.Admin, (await admin.ListAsync(CancellationToken.None).WaitAsync(Deadline)).Single(u => u.Id == disabledAdmin.Id).Role);
    }
}
