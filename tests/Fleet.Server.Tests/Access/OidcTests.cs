using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fleet.Server.Access;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static Fleet.Server.Tests.Access.AccessServer;

namespace Fleet.Server.Tests.Access;

/// <summary>
/// A small OpenID Connect provider on 127.0.0.1: discovery, keys, an authorization endpoint that signs in whoever
/// the test names, and a token endpoint that checks the PKCE verifier and issues a signed ID token.
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string ClientId = "fleet";
    public const string ClientSecret = "test-secret";

    private static readonly string[] ResponseTypes = ["code"];
    private static readonly string[] SubjectTypes = ["public"];
    private static readonly string[] SigningAlgorithms = ["RS256"];
    private static readonly string[] ChallengeMethods = ["S256"];

    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, (string Challenge, string Nonce, string RedirectUri)> _codes = new();
    private WebApplication? _app;

    public Uri Issuer { get; private set; } = null!;

    /// <summary>The next user the authorization endpoint signs in: subject, user name, groups.</summary>
    public (string Subject, string UserName, string[] Groups) NextUser { get; set; } = ("sub-1", "idp-user", []);

    /// <summary>The query of the last authorization request.</summary>
    public IQueryCollection? LastAuthorize { get; private set; }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = IssuerText,
            ["authorization_endpoint"] = IssuerText + "/authorize",
            ["token_endpoint"] = IssuerText + "/token",
            ["jwks_uri"] = IssuerText + "/jwks",
            ["response_types_supported"] = ResponseTypes,
            ["subject_types_supported"] = SubjectTypes,
            ["id_token_signing_alg_values_supported"] = SigningAlgorithms,
            ["code_challenge_methods_supported"] = ChallengeMethods,
        }));
        _app.MapGet("/jwks", () =>
        {
            var p = _rsa.ExportParameters(false);
            return Results.Json(new { keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = "k1", n = Base64Url.EncodeToString(p.Modulus), e = Base64Url.EncodeToString(p.Exponent) } } });
        });
        _app.MapGet("/authorize", (HttpRequest request) =>
        {
            LastAuthorize = request.Query;
            string code = Guid.NewGuid().ToString("N");
            _codes[code] = (request.Query["code_challenge"].ToString(), request.Query["nonce"].ToString(), request.Query["redirect_uri"].ToString());
            return Results.Redirect($"{request.Query["redirect_uri"]}?code={code}&state={Uri.EscapeDataString(request.Query["state"].ToString())}");
        });
        _app.MapPost("/token", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            if (!_codes.TryRemove(form["code"].ToString(), out var issued)
                || form["client_id"] != ClientId || form["client_secret"] != ClientSecret
                || form["redirect_uri"] != issued.RedirectUri
                || Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != issued.Challenge)
            {
                return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            }
            var user = NextUser;
            var now = DateTime.UtcNow;
            string idToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = IssuerText,
                Audience = ClientId,
                IssuedAt = now,
                NotBefore = now,
                Expires = now.AddMinutes(5),
                Claims = new Dictionary<string, object>
                {
                    ["sub"] = user.Subject,
                    ["nonce"] = issued.Nonce,
                    ["preferred_username"] = user.UserName,
                    ["groups"] = user.Groups,
                },
                SigningCredentials = new SigningCredentials(new RsaSecurityKey(_rsa) { KeyId = "k1" }, SecurityAlgorithms.RsaSha256),
            });
            return Results.Json(new { access_token = "opaque", token_type = "Bearer", expires_in = 300, id_token = idToken });
        });
        await _app.StartAsync();
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Issuer = new Uri(address);
    }

    private string IssuerText => Issuer.ToString().TrimEnd('/');

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        _rsa.Dispose();
    }
}

/// <summary>The server with OpenID Connect sign-in against <see cref="TestIdentityProvider"/>.</summary>
public sealed class OidcServer : AccessServer
{
    public TestIdentityProvider Provider { get; } = new();

    public override async Task InitializeAsync()
    {
        await Provider.StartAsync().WaitAsync(Deadline);
        ExtraSettings["Fleet:Auth:Oidc:Authority"] = Provider.Issuer.ToString().TrimEnd('/');
        ExtraSettings["Fleet:Auth:Oidc:ClientId"] = TestIdentityProvider.ClientId;
        ExtraSettings["Fleet:Auth:Oidc:ClientSecret"] = TestIdentityProvider.ClientSecret;
        ExtraSettings["Fleet:Auth:Oidc:DisplayName"] = "Test IdP";
        ExtraSettings["Fleet:Auth:Oidc:RoleClaim"] = "groups";
        ExtraSettings["Fleet:Auth:Oidc:AdminValues"] = "fleet-admins";
        ExtraSettings["Fleet:Auth:Oidc:OperatorValues"] = "fleet-ops, sre";
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Provider.DisposeAsync().AsTask().WaitAsync(Deadline);
    }
}

/// <summary>OpenID Connect sign-in end to end: challenge with PKCE, code exchange, user linking, role mapping.</summary>
public sealed class OidcTests(OidcServer server) : IClassFixture<OidcServer>
{
    [Fact]
    public async Task CodeFlowWithPkce_CreatesTheLinkedUser_WithTheMappedRole_AndSignsIn()
    {
        server.Provider.NextUser = ("subject-42", "dana@example.com", ["staff", "sre"]);
        using var client = server.NewClient();

        string landed = await SignInThroughProviderAsync(client, "/alerts");

        Assert.Equal("/alerts", landed);
        var authorize = server.Provider.LastAuthorize!;
        Assert.Equal(TestIdentityProvider.ClientId, authorize["client_id"]);
        Assert.Equal("code", authorize["response_type"]);
        Assert.Equal("S256", authorize["code_challenge_method"]);
        Assert.False(string.IsNullOrEmpty(authorize["code_challenge"]));
        Assert.Contains("openid", authorize["scope"].ToString(), StringComparison.Ordinal);
        var me = await (await GetAsync(client, "/api/me")).Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline);
        Assert.Equal("dana@example.com", me.GetProperty("userName").GetString());
        Assert.Equal(FleetRoles.Operator, me.GetProperty("role").GetString());
        await using var db = server.Db();
        var user = await db.Users.SingleAsync(u => u.UserName == "dana@example.com").WaitAsync(Deadline);
        Assert.Equal("Test IdP", user.Source);
        Assert.Null(user.PasswordHash);
        Assert.True(await db.UserLogins.AnyAsync(l => l.UserId == user.Id && l.ProviderKey == "subject-42").WaitAsync(Deadline));
        Assert.True(await db.AuditLog.AnyAsync(a => a.Action == "signed-in" && a.EntityId == user.Id).WaitAsync(Deadline));
    }

    [Fact]
    public async Task SecondSignIn_FindsTheSameUserBySubject_AndFollowsTheProvidersRole()
    {
        // Another admin exists, so the provider may take erin's admin role away.
        await server.CreateUserAsync(FleetRoles.Admin);
        server.Provider.NextUser = ("subject-77", "erin", ["fleet-admins"]);
        using (var first = server.NewClient())
        {
            await SignInThroughProviderAsync(first, "/");
        }
        server.Provider.NextUser = ("subject-77", "erin-renamed", []);
        using var second = server.NewClient();

        await SignInThroughProviderAsync(second, "/");

        var me = await (await GetAsync(second, "/api/me")).Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline);
        Assert.Equal("erin", me.GetProperty("userName").GetString());
        Assert.Equal(FleetRoles.Viewer, me.GetProperty("role").GetString());
        await using var db = server.Db();
        Assert.Equal(1, await db.UserLogins.CountAsync(l => l.ProviderKey == "subject-77").WaitAsync(Deadline));
    }

    [Fact]
    public async Task RefusedCodeExchange_GoesBackToSignInWithAnError_AndIsAudited()
    {
        using var client = server.NewClient();
        using var provider = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = Deadline };
        using var challenge = await GetAsync(client, $"{AccountRoutes.ExternalSignIn}?returnUrl=%2F");
        using var authorize = await provider.GetAsync(challenge.Headers.Location).WaitAsync(Deadline);
        // The provider will not know this code: the exchange fails.
        var callback = new Uri(System.Text.RegularExpressions.Regex.Replace(authorize.Headers.Location!.ToString(), "code=[^&]+", "code=forged"));

        using var response = await client.GetAsync(callback).WaitAsync(Deadline);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/signin?error=", response.Headers.Location?.PathAndQuery(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/api/me")).StatusCode);
        await using var db = server.Db();
        Assert.True(await db.AuditLog.AnyAsync(a => a.Action == "sign-in-failed" && a.EntityName == "(Test IdP)").WaitAsync(Deadline));
    }

    [Fact]
    public void SignInChoices_NameTheProvider()
    {
        Assert.Equal("Test IdP", server.Services.GetRequiredService<ISignInChoices>().Current.ExternalProviderName);
    }

    /// <summary>Follows the redirects between the server and the provider as a browser would; returns where it lands.</summary>
    private static async Task<string> SignInThroughProviderAsync(HttpClient client, string returnUrl)
    {
        using var provider = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = Deadline };
        using var challenge = await GetAsync(client, $"{AccountRoutes.ExternalSignIn}?returnUrl={Uri.EscapeDataString(returnUrl)}");
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        using var authorize = await provider.GetAsync(challenge.Headers.Location).WaitAsync(Deadline);
        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        using var callback = await client.GetAsync(authorize.Headers.Location).WaitAsync(Deadline);
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        using var complete = await client.GetAsync(callback.Headers.Location).WaitAsync(Deadline);
        Assert.Equal(HttpStatusCode.Redirect, complete.StatusCode);
        return complete.Headers.Location!.PathAndQuery()!;
    }
}

/// <summary>The claim-to-role mapping and the settings' validation, without a server.</summary>
public sealed class OidcRoleMappingTests
{
    private static readonly OidcOptions Options = new()
    {
        Authority = "https://login.example.com",
        ClientId = "fleet",
        RoleClaim = "groups",
        AdminValues = "fleet-admins",
        OperatorValues = "fleet-ops,sre",
        DefaultRole = FleetRoles.Viewer,
    };

    [Theory]
    [InlineData(new[] { "fleet-admins", "sre" }, FleetRoles.Admin)]
    [InlineData(new[] { "staff", "sre" }, FleetRoles.Operator)]
    [InlineData(new[] { "staff" }, FleetRoles.Viewer)]
    [InlineData(new string[0], FleetRoles.Viewer)]
    [InlineData(new[] { "Fleet-Admins" }, FleetRoles.Viewer)]
    public void RoleFor_TheStrongestMatchingValue_ElseTheDefault(string[] groups, string expected)
    {
        var principal = new ClaimsPrincipal(new ClaimsIdentity(groups.Select(g => new Claim("groups", g)), "test"));

        Assert.Equal(expected, OidcSignIn.RoleFor(principal, Options));
    }

    [Fact]
    public void RoleFor_ReadsAJsonArrayInOneClaim()
    {
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim("groups", "[\"x\",\"fleet-ops\"]")], "test"));

        Assert.Equal(FleetRoles.Operator, OidcSignIn.RoleFor(principal, Options));
    }

    [Fact]
    public void Validation_NamesEachBadKey()
    {
        var options = new AccessOptions
        {
            SignInPermitsPerMinute = 0,
            LockoutFailures = 0,
            KeysDirectory = "relative/keys",
            Oidc = new OidcOptions { Authority = "http://login.example.com", DefaultRole = "root", RoleClaim = "" },
        };

        var result = new ValidateAccessOptions().Validate(null, options);

        Assert.True(result.Failed);
        string all = string.Join("\n", result.Failures!);
        foreach (string key in new[] { "Fleet:Auth:SignInPermitsPerMinute", "Fleet:Auth:LockoutFailures", "Fleet:Auth:KeysDirectory", "Fleet:Auth:Oidc:Authority", "Fleet:Auth:Oidc:ClientId", "Fleet:Auth:Oidc:DefaultRole", "Fleet:Auth:Oidc:RoleClaim" })
        {
            Assert.Contains(key, all, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validation_AcceptsTheDefaults_AndOidcOnLoopbackHttp()
    {
        Assert.True(new ValidateAccessOptions().Validate(null, new AccessOptions()).Succeeded);
        Assert.True(new ValidateAccessOptions().Validate(null, new AccessOptions { Oidc = new OidcOptions { Authority = "http://127.0.0.1:8080", ClientId = "x" } }).Succeeded);
    }
}
