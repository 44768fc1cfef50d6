using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fleet.Server.Access;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Fleet.Server.Tests.Access.AccessServer;

namespace Fleet.Server.Tests.Access;

/// <summary>A server whose account locks after three failures and whose stamp check runs on a clock the tests move.</summary>
public sealed class SignInServer() : AccessServer(new Dictionary<string, string?>
{
    ["Fleet:Auth:LockoutFailures"] = "3",
    ["Fleet:Auth:SignInPermitsPerMinute"] = "1000",
})
{
    public FakeTimeProvider StampClock { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureServices(IServiceCollection services) =>
        services.Configure<SecurityStampValidatorOptions>(o => o.TimeProvider = StampClock);
}

/// <summary>Sign-in through the real form and the session cookie, on the real server and PostgreSQL.</summary>
public sealed class SignInTests(SignInServer server) : IClassFixture<SignInServer>
{
    [Fact]
    public async Task SignIn_ThroughTheForm_GivesAnHttpOnlyLaxSessionCookie_AndTheApiKnowsTheUser()
    {
        var user = await server.CreateUserAsync(FleetRoles.Operator);
        using var client = server.NewClient();

        using var response = await PostSignInAsync(client, user.UserName, GoodPassword, returnUrl: "/alerts?host=a");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/alerts?host=a", response.Headers.Location?.OriginalString);
        string cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("fleet.auth=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        var me = await MeAsync(client);
        Assert.Equal(user.UserName, me.GetProperty("userName").GetString());
        Assert.Equal(FleetRoles.Operator, me.GetProperty("role").GetString());
        await using var db = server.Db();
        Assert.True(await db.AuditLog.AnyAsync(a => a.Action == "signed-in" && a.EntityId == user.Id && a.Actor == user.UserName).WaitAsync(Deadline));
        Assert.NotNull((await db.Users.SingleAsync(u => u.Id == user.Id).WaitAsync(Deadline)).LastSignInAt);
    }

    [Fact]
    public async Task SignIn_WrongPassword_IsRefusedAsInvalid_AndAuditedWithReasonAndAddressButNotThePassword()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        using var client = server.NewClient();
        const string Wrong = "not-the-password-4711";

        using var response = await PostSignInAsync(client, user.UserName, Wrong, returnUrl: "/drift");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/signin?error=invalid&returnUrl=%2Fdrift", response.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/me")).StatusCode);
        await using var db = server.Db();
        var entry = await db.AuditLog.SingleAsync(a => a.Action == "sign-in-failed" && a.EntityName == user.UserName).WaitAsync(Deadline);
        Assert.Contains("wrong password", entry.After, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", entry.After, StringComparison.Ordinal);
        Assert.DoesNotContain(Wrong, entry.After + entry.Before + entry.Actor, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_UnknownUser_IsRefusedLikeAWrongPassword()
    {
        using var client = server.NewClient();

        using var response = await PostSignInAsync(client, "nobody-" + Guid.NewGuid().ToString("N")[..8], GoodPassword);

        Assert.Equal("/signin?error=invalid", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task SignIn_AfterThreeFailures_LocksTheAccount_EvenForTheRightPassword()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        using var client = server.NewClient();
        for (int i = 0; i < 3; i++)
        {
            using var failed = await PostSignInAsync(client, user.UserName, $"wrong password {i}");
            Assert.StartsWith("/signin?error=", failed.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }

        using var response = await PostSignInAsync(client, user.UserName, GoodPassword);

        Assert.Equal("/signin?error=locked", response.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/me")).StatusCode);
        await using var db = server.Db();
        var reasons = await db.AuditLog.Where(a => a.Action == "sign-in-failed" && a.EntityName == user.UserName).Select(a => a.After!).ToListAsync().WaitAsync(Deadline);
        Assert.Contains(reasons, r => r.Contains("locked out", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SignIn_WithoutAntiforgeryToken_IsRefused_AndNoSessionStarts()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        using var client = server.NewClient();

        using var response = await PostSignInAsync(client, user.UserName, GoodPassword, withAntiforgery: false);

        Assert.StartsWith("/signin?error=", response.Headers.Location?.OriginalString, StringComparison.Ordinal);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("fleet.auth=", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/me")).StatusCode);
    }

    [Theory]
    [InlineData("//evil.example/x")]
    [InlineData("https://evil.example/")]
    [InlineData("/\\evil.example")]
    public async Task SignIn_ReturnUrlOffThisServer_GoesHomeInstead(string returnUrl)
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        using var client = server.NewClient();

        using var response = await PostSignInAsync(client, user.UserName, GoodPassword, returnUrl);

        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task SignIn_DisabledUser_IsRefusedAsDisabled()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        await server.Services.GetRequiredService<IUserAdmin>().SetDisabledAsync(user.Id, true, "test", CancellationToken.None).WaitAsync(Deadline);
        using var client = server.NewClient();

        using var response = await PostSignInAsync(client, user.UserName, GoodPassword);

        Assert.Equal("/signin?error=disabled", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task SignOut_EndsTheSession_AndIsAudited()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        using var client = server.NewClient();
        await SignInAsync(client, user.UserName);
        string token = await AntiforgeryTokenAsync(client);

        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token });
        using var response = await client.PostAsync(new Uri(AccountRoutes.SignOutPost, UriKind.Relative), form).WaitAsync(Deadline);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(AccountRoutes.SignInPage, response.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/me")).StatusCode);
        await using var db = server.Db();
        Assert.True(await db.AuditLog.AnyAsync(a => a.Action == "signed-out" && a.EntityId == user.Id).WaitAsync(Deadline));
    }

    [Fact]
    public async Task Anonymous_ApiAndHubGet401_PagesRedirectToSignIn_HealthAndTokenEndpointStayOpen()
    {
        using var client = server.NewClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/hosts")).StatusCode);
        using var negotiate = await client.PostAsync(new Uri("/hubs/fleet/negotiate?negotiateVersion=1", UriKind.Relative), null).WaitAsync(Deadline);
        Assert.Equal(HttpStatusCode.Unauthorized, negotiate.StatusCode);
        using var page = await GetAsync(client, "/alerts");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/signin?returnUrl=%2Falerts", page.Headers.Location?.PathAndQuery());
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/account/antiforgery")).StatusCode);
        foreach (string asset in new[] { "/_framework/blazor.web.js", "/_content/MudBlazor/MudBlazor.min.css", "/_content/MudBlazor/MudBlazor.min.js" })
        {
            using var file = await GetAsync(client, asset);
            Assert.Equal(HttpStatusCode.OK, file.StatusCode);
            Assert.True((await file.Content.ReadAsByteArrayAsync().WaitAsync(Deadline)).Length > 1000, $"{asset} is empty");
        }
    }

    [Fact]
    public async Task Viewer_IsForbiddenTheUsersApi_AdminIsAllowed()
    {
        var viewer = await server.CreateUserAsync(FleetRoles.Viewer);
        var admin = await server.CreateUserAsync(FleetRoles.Admin);
        using var viewerClient = server.NewClient();
        using var adminClient = server.NewClient();
        await SignInAsync(viewerClient, viewer.UserName);
        await SignInAsync(adminClient, admin.UserName);

        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(viewerClient, "/api/users")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(adminClient, "/api/users")).StatusCode);
    }

    [Fact]
    public async Task CookieCall_ToAnUnsafeApiRoute_IsRefusedWithoutTheAntiforgeryHeader_AndAcceptedWithIt()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        using var client = server.NewClient();
        await SignInAsync(client, user.UserName);

        using var without = await client.PostAsJsonAsync(new Uri("/api/me/tokens", UriKind.Relative), new { name = "no-header" }).WaitAsync(Deadline);
        string token = await AntiforgeryTokenAsync(client);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/me/tokens", UriKind.Relative)) { Content = JsonContent.Create(new { name = "with-header" }) };
        request.Headers.Add(AccessServiceCollectionExtensions.AntiforgeryHeader, token);
        using var with = await client.SendAsync(request).WaitAsync(Deadline);

        Assert.Equal(HttpStatusCode.BadRequest, without.StatusCode);
        Assert.Equal(HttpStatusCode.Created, with.StatusCode);
        var names = (await server.Services.GetRequiredService<IApiTokens>().ListAsync(user.Id, CancellationToken.None).WaitAsync(Deadline)).Select(t => t.Name);
        Assert.Equal(["with-header"], names);
    }

    [Fact]
    public async Task OpenSession_OfADisabledUser_EndsAtTheNextStampCheck()
    {
        var user = await server.CreateUserAsync(FleetRoles.Operator);
        using var client = server.NewClient();
        await SignInAsync(client, user.UserName);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/api/me")).StatusCode);

        await server.Services.GetRequiredService<IUserAdmin>().SetDisabledAsync(user.Id, true, "test", CancellationToken.None).WaitAsync(Deadline);
        server.StampClock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/me")).StatusCode);
    }

    [Fact]
    public async Task OpenSession_TakesARoleChange_AtTheNextStampCheck()
    {
        var user = await server.CreateUserAsync(FleetRoles.Operator);
        using var client = server.NewClient();
        await SignInAsync(client, user.UserName);

        await server.Services.GetRequiredService<IUserAdmin>().SetRoleAsync(user.Id, FleetRoles.Viewer, "test", CancellationToken.None).WaitAsync(Deadline);
        server.StampClock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(FleetRoles.Viewer, (await MeAsync(client)).GetProperty("role").GetString());
    }

    [Fact]
    public async Task SecurityHeaders_AreOnEveryKindOfResponse()
    {
        using var client = server.NewClient();
        foreach (string path in new[] { "/healthz", "/api/me", "/alerts", "/account/antiforgery", "/no-such-page" })
        {
            using var response = await GetAsync(client, path);
            string csp = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.Contains("object-src 'none'", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
            Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
            Assert.Contains("camera=()", Assert.Single(response.Headers.GetValues("Permissions-Policy")), StringComparison.Ordinal);
        }
    }

    private static async Task<JsonElement> MeAsync(HttpClient client)
    {
        using var response = await GetAsync(client, "/api/me");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline);
    }
}

internal static class UriPaths
{
    /// <summary>Path and query of a Location that may be absolute or relative.</summary>
    public static string? PathAndQuery(this Uri uri) => uri.IsAbsoluteUri ? uri.PathAndQuery : uri.OriginalString;
}
