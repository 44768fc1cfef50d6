using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using static Fleet.Server.Tests.Access.AccessServer;

namespace Fleet.Server.Tests.Access;

/// <summary>A server behind a reverse proxy on 127.0.0.1 (Fleet:Http:TrustedProxies).</summary>
public sealed class ProxiedServer() : AccessServer(new Dictionary<string, string?>
{
    ["Fleet:Http:TrustedProxies:0"] = "127.0.0.0/8",
});

/// <summary>
/// X-Forwarded-For names the browser only when it comes from a trusted proxy: then failed sign-ins are audited (and
/// rate limited) by the browser's address; from anyone else the header is ignored, or any client could pose as another.
/// </summary>
public sealed class TrustedProxyTests(ProxiedServer proxied, AccessServer direct) : IClassFixture<ProxiedServer>, IClassFixture<AccessServer>
{
    private const string Browser = "203.0.113.9";

    [Fact]
    public async Task FromATrustedProxy_AFailedSignInIsAuditedWithTheForwardedAddress()
    {
        string address = await FailedSignInAddressAsync(proxied);

        Assert.Contains(Browser, address, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutTrustedProxies_TheForwardedHeaderIsIgnored()
    {
        string address = await FailedSignInAddressAsync(direct);

        Assert.DoesNotContain(Browser, address, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", address, StringComparison.Ordinal);
    }

    /// <summary>A wrong password sent through a "proxy" that says the browser is <see cref="Browser"/>; the audit entry's details.</summary>
    private static async Task<string> FailedSignInAddressAsync(AccessServer server)
    {
        var user = await server.CreateUserAsync(FleetRoles.Viewer);
        using var client = server.NewClient();
        client.DefaultRequestHeaders.Add("X-Forwarded-For", Browser);

        using var response = await PostSignInAsync(client, user.UserName, "not-the-password-0815");

        await using var db = server.Db();
        var entry = await db.AuditLog.SingleAsync(a => a.Action == "sign-in-failed" && a.EntityName == user.UserName).WaitAsync(Deadline);
        return entry.After ?? "";
    }
}
