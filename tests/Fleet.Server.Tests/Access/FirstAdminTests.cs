using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fleet.Server.Access;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Fleet.Server.Tests.Access.AccessServer;

namespace Fleet.Server.Tests.Access;

/// <summary>A server with no user yet, which allows more setup posts than the test makes.</summary>
public sealed class EmptyServer() : AccessServer(new Dictionary<string, string?> { ["Fleet:Auth:SetupPermitsPerMinute"] = "100" });

/// <summary>The first administrator through the setup link the server logs when it has no user.</summary>
public sealed partial class FirstAdminTests(EmptyServer server) : IClassFixture<EmptyServer>
{
    [Fact]
    public async Task SetupLink_IsLoggedOnce_CreatesTheFirstAdminOnce_AndOnlyWhileNoUserExists()
    {
        string token = await SetupTokenFromLogAsync();
        using var client = server.NewClient();

        // A wrong token and differing passwords are refused, and leave the link usable.
        using (var wrong = await PostSetupAsync(client, "not-the-token", "root", GoodPassword, GoodPassword))
        {
            Assert.Equal("/setup/not-the-token?error=invalid", wrong.Headers.Location?.OriginalString);
        }
        using (var differ = await PostSetupAsync(client, token, "root", GoodPassword, GoodPassword + "!"))
        {
            Assert.StartsWith($"/setup/{token}?error=", differ.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }
        using (var weak = await PostSetupAsync(client, token, "root", "short", "short"))
        {
            Assert.Contains("password", Uri.UnescapeDataString(weak.Headers.Location!.OriginalString), StringComparison.OrdinalIgnoreCase);
        }

        using (var created = await PostSetupAsync(client, token, "root", GoodPassword, GoodPassword))
        {
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
            Assert.Equal("/", created.Headers.Location?.OriginalString);
        }
        using (var me = await GetAsync(client, "/api/me"))
        {
            var body = await me.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline);
            Assert.Equal("root", body.GetProperty("userName").GetString());
            Assert.Equal(FleetRoles.Admin, body.GetProperty("role").GetString());
        }

        using var second = server.NewClient();
        using (var again = await PostSetupAsync(second, token, "intruder", GoodPassword, GoodPassword))
        {
            Assert.Equal($"/setup/{token}?error=invalid", again.Headers.Location?.OriginalString);
        }
        // Even a fresh link (as after a restart) creates nobody once a user exists.
        string fresh = server.Services.GetRequiredService<FirstAdminSetup>().Issue();
        using (var late = await PostSetupAsync(second, fresh, "intruder", GoodPassword, GoodPassword))
        {
            Assert.StartsWith("/signin?error=", late.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }

        await using var db = server.Db();
        Assert.Equal(["root"], await db.Users.Select(u => u.UserName!).ToListAsync().WaitAsync(Deadline));
        var audit = await db.AuditLog.SingleAsync(a => a.Entity == "user" && a.Action == "created").WaitAsync(Deadline);
        Assert.Equal("setup link", audit.Actor);
    }

    private async Task<string> SetupTokenFromLogAsync()
    {
        // The link is logged in the background after start: wait for it with a deadline.
        using var cts = new CancellationTokenSource(Deadline);
        while (true)
        {
            var lines = server.Logs.All.Where(l => l.Message.Contains("/setup/", StringComparison.Ordinal)).ToList();
            if (lines.Count > 0)
            {
                var line = Assert.Single(lines);
                Assert.Equal(LogLevel.Warning, line.Level);
                Assert.StartsWith(server.Address.ToString(), SetupLink().Match(line.Message).Value, StringComparison.Ordinal);
                return SetupLink().Match(line.Message).Groups["token"].Value;
            }
            await Task.Delay(20, cts.Token);
        }
    }

    private static async Task<HttpResponseMessage> PostSetupAsync(HttpClient client, string token, string userName, string password, string confirm)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = token,
            ["userName"] = userName,
            ["password"] = password,
            ["confirmPassword"] = confirm,
            ["__RequestVerificationToken"] = await AntiforgeryTokenAsync(client),
        });
        return await client.PostAsync(new Uri(AccountRoutes.SetupPost, UriKind.Relative), form).WaitAsync(Deadline);
    }

    [GeneratedRegex(@"http://\S+/setup/(?<token>[A-Za-z0-9_-]+)")]
    private static partial Regex SetupLink();
}

/// <summary>A server that allows three sign-in posts per client address per window.</summary>
public sealed class ThrottledServer() : AccessServer(new Dictionary<string, string?> { ["Fleet:Auth:SignInPermitsPerMinute"] = "3" });

/// <summary>Repeated sign-in attempts from one address are refused before any password is checked.</summary>
public sealed class SignInThrottleTests(ThrottledServer server) : IClassFixture<ThrottledServer>
{
    [Fact]
    public async Task RepeatedSignIns_FromOneAddress_AreThrottled()
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        using var client = server.NewClient();
        for (int i = 0; i < 3; i++)
        {
            using var refused = await PostSignInAsync(client, user.UserName, $"wrong {i}", returnUrl: "/hosts");
            Assert.Equal("/signin?error=invalid&returnUrl=%2Fhosts", refused.Headers.Location?.OriginalString);
        }

        using var throttled = await PostSignInAsync(client, user.UserName, GoodPassword, returnUrl: "/hosts");
        using var bare = await client.PostAsync(new Uri(AccountRoutes.SignInPost, UriKind.Relative), null).WaitAsync(Deadline);

        Assert.Equal("/signin?error=throttled&returnUrl=%2Fhosts", throttled.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.TooManyRequests, bare.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/me")).StatusCode);
        // The throttled attempt never reached the password check: three failures recorded, not four.
        await using var db = server.Db();
        Assert.Equal(3, await db.AuditLog.CountAsync(a => a.Action == "sign-in-failed" && a.EntityName == user.UserName).WaitAsync(Deadline));
    }
}
