using System.Net;
using System.Text.RegularExpressions;
using Fleet.Server.Hosting;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Dashboard.Benchmarks;

/// <summary>
/// The real server (Program, as deployed: Production environment, real storage on the benchmark's database, the
/// UI, ingest, the live bus) on Kestrel with both endpoints on 127.0.0.1 port 0; no local agent.
/// </summary>
internal sealed partial class BenchServer : WebApplicationFactory<global::Program>
{
    /// <summary>The benchmark's own user: pages and the API need a signed-in user, and a viewer sees every page timed.</summary>
    public const string UserName = "dashboard-benchmark";

    private readonly string _connectionString;
    private readonly string _password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
    private readonly SemaphoreSlim _userGate = new(1, 1);
    private bool _userCreated;

    public BenchServer(string connectionString)
    {
        _connectionString = connectionString;
        // Without a test manifest the factory guesses <solution>/Fleet.Server as the content root; the server's
        // folder is server/. The factory reads this setting first (ASPNETCORE_TEST_CONTENTROOT_<assembly>).
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_FLEET_SERVER", ServerDirectory());
        UseKestrel();
    }

    /// <summary>The server project's folder, found upward from the runner's bin folder.</summary>
    private static string ServerDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "server");
            if (File.Exists(Path.Combine(candidate, "Fleet.Server.csproj")))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException($"no server/Fleet.Server.csproj above {AppContext.BaseDirectory}");
    }

    /// <summary>Starts the server and returns where the pages and the gRPC endpoint listen.</summary>
    public (Uri Http, Uri Grpc) Start()
    {
        StartServer();
        var endpoints = Services.GetRequiredService<FleetEndpoints>();
        return (endpoints.HttpAddress ?? throw new InvalidOperationException("the server has no HTTP address"),
            endpoints.GrpcAddress ?? throw new InvalidOperationException("the server has no gRPC address"));
    }

    /// <summary>
    /// Signs <paramref name="client"/> (whose handler keeps cookies) in as <see cref="UserName"/> through the real
    /// form: GET /signin for the antiforgery cookie and token, POST /account/signin; the session cookie stays in the
    /// client's cookie container, so what is timed afterwards is the pages, not the sign-in redirect.
    /// </summary>
    public async Task SignInAsync(HttpClient client, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        await _userGate.WaitAsync(ct);
        try
        {
            if (!_userCreated)
            {
                await Services.GetRequiredService<IUserAdmin>().CreateAsync(UserName, _password, FleetRoles.Viewer, "dashboard benchmark", ct);
                _userCreated = true;
            }
        }
        finally
        {
            _userGate.Release();
        }
        string form = await client.GetStringAsync(AccountRoutes.SignInPage.TrimStart('/'), ct);
        var input = AntiforgeryInput().Match(form);
        var value = input.Success ? ValueAttribute().Match(input.Value) : Match.Empty;
        if (!value.Success)
        {
            throw new InvalidOperationException($"GET {AccountRoutes.SignInPage} has no antiforgery field __RequestVerificationToken");
        }
        using var post = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["userName"] = UserName,
            ["password"] = _password,
            ["returnUrl"] = "/",
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(value.Groups[1].Value),
        });
        using var response = await client.PostAsync(AccountRoutes.SignInPost.TrimStart('/'), post, ct);
        string landed = response.RequestMessage?.RequestUri?.PathAndQuery ?? "?";
        if (!response.IsSuccessStatusCode || landed.StartsWith(AccountRoutes.SignInPage, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"signing in as {UserName} failed: {(int)response.StatusCode}, landed on {landed}");
        }
    }

    /// <summary>The session cookies of a signed-in client, for a browser to start with.</summary>
    public static IReadOnlyList<Cookie> CookiesOf(CookieContainer cookies, Uri http) => [.. cookies.GetCookies(http).Cast<Cookie>()];

    [GeneratedRegex("<input[^>]*name=\"__RequestVerificationToken\"[^>]*>")]
    private static partial Regex AntiforgeryInput();

    [GeneratedRegex("value=\"([^\"]*)\"")]
    private static partial Regex ValueAttribute();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("Fleet:Http:Url", "http://127.0.0.1:0");
        builder.UseSetting("Fleet:Grpc:Url", "http://127.0.0.1:0");
        builder.UseSetting("ConnectionStrings:Fleet", _connectionString);
        builder.UseSetting("Fleet:LocalAgent:Enabled", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command", "None");
        // The report is on stdout; the server's log goes to stderr with the progress.
        builder.UseSetting("Logging:Console:LogToStandardErrorThreshold", "Trace");
    }
}
