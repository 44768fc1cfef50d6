using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Fleet.Server.Live;
using Fleet.Server.Tests.Hosting;
using Fleet.Server.Tests.Infrastructure;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Xunit.Abstractions;

namespace Fleet.Server.Tests.Authorization;

/// <summary>
/// Each role against each API route, page and hub method of the real server (its own cookie and API-token schemes, a
/// real PostgreSQL): a viewer, an operator and an admin, each signed in with a personal API token, and nobody. The
/// expected least role of every route is written down here, apart from the code; a route the table does not know fails
/// the test, so a new route cannot ship without a decision about who may call it.
/// </summary>
[Collection(RoleMatrixSuite.Name)]
public sealed class RoleMatrixTests(RoleMatrixServer server, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Who may call what: "METHOD /pattern" and the weakest role allowed; null = anyone, signed in or not.</summary>
    private static readonly Dictionary<string, string?> Expected = new(StringComparer.Ordinal)
    {
        // Fleet, series, agent configuration
        ["GET /api/hosts"] = FleetRoles.Viewer,
        ["GET /api/hosts/{name}/latest"] = FleetRoles.Viewer,
        ["GET /api/hosts/{name}/series"] = FleetRoles.Viewer,
        ["GET /api/hosts/{name}/projections"] = FleetRoles.Viewer,
        ["GET /api/projections"] = FleetRoles.Viewer,
        ["GET /api/agent-config"] = FleetRoles.Viewer,
        ["PUT /api/agent-config"] = FleetRoles.Admin,
        // Alerts, rules, the audit log, silences
        ["GET /api/alert-rules"] = FleetRoles.Viewer,
        ["GET /api/alert-rules/{id:long}"] = FleetRoles.Viewer,
        ["POST /api/alert-rules"] = FleetRoles.Admin,
        ["PUT /api/alert-rules/{id:long}"] = FleetRoles.Admin,
        ["DELETE /api/alert-rules/{id:long}"] = FleetRoles.Admin,
        ["GET /api/alerts"] = FleetRoles.Viewer,
        ["GET /api/audit"] = FleetRoles.Admin,
        ["GET /api/silences"] = FleetRoles.Viewer,
        ["GET /api/silences/{id:long}"] = FleetRoles.Viewer,
        ["POST /api/silences"] = FleetRoles.Operator,
        ["DELETE /api/silences/{id:long}"] = FleetRoles.Operator,
        // Notification channels: admins only, reading too (webhook URLs hold secrets)
        ["GET /api/notification-channels"] = FleetRoles.Admin,
        ["POST /api/notification-channels"] = FleetRoles.Admin,
        ["PUT /api/notification-channels/{id:long}"] = FleetRoles.Admin,
        ["DELETE /api/notification-channels/{id:long}"] = FleetRoles.Admin,
        ["GET /api/notification-deliveries"] = FleetRoles.Admin,
        // Compare, drift, snapshots
        ["GET /api/compare"] = FleetRoles.Viewer,
        ["GET /api/drift"] = FleetRoles.Viewer,
        ["GET /api/snapshots"] = FleetRoles.Viewer,
        ["GET /api/snapshots/{id:long}"] = FleetRoles.Viewer,
        ["GET /api/snapshots/{id:long}/archive"] = FleetRoles.Viewer,
        ["POST /api/snapshots"] = FleetRoles.Operator,
        ["POST /api/snapshots/import"] = FleetRoles.Operator,
        ["PATCH /api/snapshots/{id:long}"] = FleetRoles.Operator,
        ["DELETE /api/snapshots/{id:long}"] = FleetRoles.Operator,
        // Enrollment and agents
        ["GET /api/enrollment-tokens"] = FleetRoles.Admin,
        ["POST /api/enrollment-tokens"] = FleetRoles.Admin,
        ["DELETE /api/enrollment-tokens/{id:long}"] = FleetRoles.Admin,
        ["GET /api/agents"] = FleetRoles.Viewer,
        // Users (admins) and one's own API tokens (anyone signed in: every role is at least a viewer)
        ["GET /api/users"] = FleetRoles.Admin,
        ["POST /api/users"] = FleetRoles.Admin,
        ["PUT /api/users/{id}/role"] = FleetRoles.Admin,
        ["PUT /api/users/{id}/password"] = FleetRoles.Admin,
        ["PUT /api/users/{id}/disabled"] = FleetRoles.Admin,
        ["DELETE /api/users/{id}"] = FleetRoles.Admin,
        ["GET /api/me"] = FleetRoles.Viewer,
        ["GET /api/me/tokens"] = FleetRoles.Viewer,
        ["POST /api/me/tokens"] = FleetRoles.Viewer,
        ["DELETE /api/me/tokens/{id:long}"] = FleetRoles.Viewer,
        // Health
        ["GET /healthz"] = null,
        ["GET /healthz/ready"] = null,
    };

    /// <summary>Pages: the pattern and the weakest role allowed (null: anyone).</summary>
    private static readonly Dictionary<string, string?> ExpectedPages = new(StringComparer.Ordinal)
    {
        ["/"] = FleetRoles.Viewer,
        ["/hosts/{Name}"] = FleetRoles.Viewer,
        ["/services/{Name}"] = FleetRoles.Viewer,
        ["/alerts"] = FleetRoles.Viewer,
        ["/alerts/rules"] = FleetRoles.Viewer,
        ["/alerts/channels"] = FleetRoles.Admin,
        ["/compare"] = FleetRoles.Viewer,
        ["/drift"] = FleetRoles.Viewer,
        ["/snapshots"] = FleetRoles.Viewer,
        ["/snapshots/{Id:long}"] = FleetRoles.Viewer,
        ["/snapshots/{SnapshotId:long}/hosts/{Name}"] = FleetRoles.Viewer,
        ["/snapshots/{SnapshotId:long}/services/{Name}"] = FleetRoles.Viewer,
        ["/snapshots/{Id:long}/compare"] = FleetRoles.Viewer,
        ["/account"] = FleetRoles.Viewer,
        ["/admin/users"] = FleetRoles.Admin,
        ["/admin/agents"] = FleetRoles.Admin,
        ["/signin"] = null,
        ["/access-denied"] = null,
        ["/setup/{Token}"] = null,
    };

    [Fact]
    public async Task EveryApiRoute_AllowsItsRolesAndRefusesTheOthers_AndNobodyUnlessAnonymous()
    {
        var routes = server.Routes().Where(r => r.Pattern.StartsWith("/api/", StringComparison.Ordinal) || r.Pattern.StartsWith("/healthz", StringComparison.Ordinal)).ToList();
        var unknown = routes.Select(r => r.Key).Where(k => !Expected.ContainsKey(k)).ToList();
        Assert.True(unknown.Count == 0, "routes with no expected role in this test (decide who may call them): " + string.Join(", ", unknown));

        var failures = new List<string>();
        foreach (var route in routes)
        {
            string? least = Expected[route.Key];
            foreach (string? role in Roles)
            {
                var status = await server.CallAsync(route.Method, Concrete(route.Pattern), role);
                bool allowed = least is null || (role is not null && FleetRoles.Rank(role) >= FleetRoles.Rank(least));
                bool refused = status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
                string who = role ?? "anonymous";
                output.WriteLine($"{route.Key} as {who}: {(int)status}");
                if (allowed == refused)
                {
                    failures.Add($"{route.Key} as {who}: {(int)status} {status}, expected {(allowed ? "allowed" : "refused")}");
                }
                else if (!allowed && role is null && status != HttpStatusCode.Unauthorized)
                {
                    failures.Add($"{route.Key} as anonymous: {(int)status}, expected 401 (not signed in)");
                }
                else if (!allowed && role is not null && status != HttpStatusCode.Forbidden)
                {
                    failures.Add($"{route.Key} as {who}: {(int)status}, expected 403 (signed in, role too weak)");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task EveryPage_AllowsItsRoles_RedirectsNobodyToSignIn_AndRefusesWeakerRoles()
    {
        var pages = server.Pages();
        var unknown = pages.Where(p => !ExpectedPages.ContainsKey(p)).ToList();
        Assert.True(unknown.Count == 0, "pages with no expected role in this test: " + string.Join(", ", unknown));
        Assert.True(ExpectedPages.Keys.All(pages.Contains), "pages this test expects that the server does not serve: " + string.Join(", ", ExpectedPages.Keys.Where(k => !pages.Contains(k))));

        var failures = new List<string>();
        foreach (string page in pages)
        {
            string? least = ExpectedPages[page];
            foreach (string? role in Roles)
            {
                var response = await server.GetPageAsync(Concrete(page), role);
                bool allowed = least is null || (role is not null && FleetRoles.Rank(role) >= FleetRoles.Rank(least));
                string who = role ?? "anonymous";
                string where = response.Location ?? "";
                output.WriteLine($"{page} as {who}: {(int)response.Status} {where}");
                bool toSignIn = response.Status == HttpStatusCode.Redirect && where.Contains(AccountRoutes.SignInPage, StringComparison.Ordinal);
                bool refused = response.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden || toSignIn
                    || (response.Status == HttpStatusCode.Redirect && where.Contains(AccountRoutes.AccessDeniedPage, StringComparison.Ordinal));
                if (allowed && response.Status != HttpStatusCode.OK)
                {
                    failures.Add($"{page} as {who}: {(int)response.Status} {where}, expected 200");
                }
                else if (!allowed && !refused)
                {
                    failures.Add($"{page} as {who}: {(int)response.Status} {where}, expected a refusal");
                }
                else if (!allowed && role is null && !toSignIn && response.Status != HttpStatusCode.Unauthorized)
                {
                    failures.Add($"{page} as anonymous: {(int)response.Status} {where}, expected the sign-in page");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task EveryHubMethod_AnswersEachRole_AndTheHubRefusesNobody()
    {
        var methods = typeof(FleetHub).GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName).ToList();
        Assert.NotEmpty(methods);
        using var cts = new CancellationTokenSource(Timeout);

        foreach (string role in FleetRoles.All)
        {
            await using var connection = server.Hub(role);
            await connection.StartAsync(cts.Token);
            foreach (var method in methods)
            {
                object?[] args = [.. method.GetParameters().Select(_ => (object?)"web-1")];
                // A refused method would throw a HubException naming authorization; every role reads.
                await connection.InvokeCoreAsync(method.Name, args, cts.Token);
            }
            Assert.Equal(HubConnectionState.Connected, connection.State);
        }

        await using var nobody = server.Hub(role: null);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => nobody.StartAsync(cts.Token));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task ARevokedApiToken_IsRefusedAtTheApiAndTheHub()
    {
        using var cts = new CancellationTokenSource(Timeout);
        string token = await server.NewTokenAsync(FleetRoles.Admin, "soon revoked");
        var before = await server.CallWithTokenAsync(HttpMethod.Get, "/api/hosts", token);

        await server.RevokeTokenAsync(token);
        var after = await server.CallWithTokenAsync(HttpMethod.Get, "/api/hosts", token);
        await using var hub = server.HubWithToken(token);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => hub.StartAsync(cts.Token));

        Assert.Equal(HttpStatusCode.OK, before);
        Assert.Equal(HttpStatusCode.Unauthorized, after);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    private static readonly string?[] Roles = [null, FleetRoles.Viewer, FleetRoles.Operator, FleetRoles.Admin];

    /// <summary>A URL for a route pattern: parameters become harmless values (ids that do not exist, a host name).</summary>
    private static string Concrete(string pattern) => System.Text.RegularExpressions.Regex.Replace(
        pattern, @"\{(\w+)(:[^}]*)?\}", m => m.Groups[2].Value.StartsWith(":long", StringComparison.Ordinal) ? "987654" : "web-1");
}

[CollectionDefinition(Name)]
public sealed class RoleMatrixSuite : ICollectionFixture<RoleMatrixServer>
{
    public const string Name = "role matrix";
}

/// <summary>The real server on a real database with three users (viewer, operator, admin), each with an API token.</summary>
public sealed class RoleMatrixServer : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);
    private TestDatabase? _database;
    private FleetServerFactory? _factory;
    private Uri? _http;
    private HttpClient? _client;

    private FleetServerFactory Factory => _factory ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("roles").WaitAsync(Timeout);
        _factory = new FleetServerFactory(
            new Dictionary<string, string?>
            {
                ["ConnectionStrings:Fleet"] = _database.ConnectionString,
                ["Fleet:Database:MigrateOnStart"] = "true",
            },
            fakeStorage: false,
            realSignIn: true);
        (_http, _) = _factory.Start();
        _client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _http, Timeout = Timeout };
        foreach (string role in FleetRoles.All)
        {
            _tokens[role] = await NewTokenAsync(role, "matrix");
        }
    }

    public void Dispose()
    {
        _client?.Dispose();
        _factory?.Dispose();
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    /// <summary>A new user of <paramref name="role"/> and a personal API token of theirs.</summary>
    public async Task<string> NewTokenAsync(string role, string tokenName)
    {
        using var scope = Factory.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<IUserAdmin>();
        var tokens = scope.ServiceProvider.GetRequiredService<IApiTokens>();
        string name = $"{role}-{Guid.NewGuid():N}"[..20];
        var user = await users.CreateAsync(name, "correct horse battery staple", role, "role matrix", CancellationToken.None).WaitAsync(Timeout);
        var secret = await tokens.CreateAsync(user.Id, tokenName, null, "role matrix", CancellationToken.None).WaitAsync(Timeout);
        _owners[secret.Secret] = (user.Id, secret.Id);
        return secret.Secret;
    }

    private readonly Dictionary<string, (string UserId, long TokenId)> _owners = new(StringComparer.Ordinal);

    public async Task RevokeTokenAsync(string token)
    {
        using var scope = Factory.Services.CreateScope();
        var (userId, tokenId) = _owners[token];
        Assert.True(await scope.ServiceProvider.GetRequiredService<IApiTokens>().RevokeAsync(userId, tokenId, "role matrix", CancellationToken.None).WaitAsync(Timeout));
    }

    public sealed record Route(string Method, string Pattern)
    {
        public string Key => $"{Method} {Pattern}";
    }

    /// <summary>Every HTTP route the server maps (method and pattern), from its endpoint data sources.</summary>
    public IReadOnlyList<Route> Routes() =>
        [.. Endpoints()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => new Route(m, PatternOf(e))))
            .Distinct()
            .OrderBy(r => r.Pattern, StringComparer.Ordinal)];

    /// <summary>The page routes (Razor components), by pattern.</summary>
    public IReadOnlyList<string> Pages() =>
        [.. Endpoints()
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Components.Endpoints.ComponentTypeMetadata>() is not null)
            .Select(PatternOf)
            .Distinct()
            .OrderBy(p => p, StringComparer.Ordinal)];

    /// <summary>"/api/snapshots" for a group's "" route too (its raw text ends in a slash).</summary>
    private static string PatternOf(RouteEndpoint endpoint) => "/" + endpoint.RoutePattern.RawText!.Trim('/');

    private IEnumerable<RouteEndpoint> Endpoints() =>
        Factory.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>();

    public Task<HttpStatusCode> CallAsync(string method, string path, string? role) =>
        CallWithTokenAsync(new HttpMethod(method), path, role is null ? null : _tokens[role]);

    public async Task<HttpStatusCode> CallWithTokenAsync(HttpMethod method, string path, string? token)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (method != HttpMethod.Get && method != HttpMethod.Delete)
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }
        using var response = await _client!.SendAsync(request).WaitAsync(Timeout);
        return response.StatusCode;
    }

    public async Task<(HttpStatusCode Status, string? Location)> GetPageAsync(string path, string? role)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (role is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _tokens[role]);
        }
        using var response = await _client!.SendAsync(request).WaitAsync(Timeout);
        return (response.StatusCode, response.Headers.Location?.ToString());
    }

    public HubConnection Hub(string? role) => HubWithToken(role is null ? null : _tokens[role]);

    public HubConnection HubWithToken(string? token) =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(_http!, FleetHub.Path), o =>
            {
                o.Transports = HttpTransportType.WebSockets | HttpTransportType.LongPolling;
                if (token is not null)
                {
                    o.AccessTokenProvider = () => Task.FromResult<string?>(token);
                }
            })
            .Build();
}
