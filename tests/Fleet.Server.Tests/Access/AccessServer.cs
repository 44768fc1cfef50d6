using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fleet.Server.Access;
using Fleet.Server.Hosting;
using Fleet.Server.Storage;
using Fleet.Server.Tests.Infrastructure;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fleet.Server.Tests.Access;

/// <summary>
/// The real server (Program) on Kestrel at 127.0.0.1 with its own PostgreSQL database, migrated at start, sign-in
/// as configured (rate-limit windows of an hour, so no window ends during a test), and its log lines kept.
/// </summary>
public class AccessServer : IAsyncLifetime, IDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>A password that passes the length rule.</summary>
    public const string GoodPassword = "correct horse battery staple";

    private readonly Dictionary<string, string?> _settings;
    private TestDatabase? _database;
    private Factory? _factory;

    public AccessServer()
        : this(new Dictionary<string, string?>())
    {
    }

    protected AccessServer(IDictionary<string, string?> settings)
    {
        _settings = new Dictionary<string, string?>(settings, StringComparer.OrdinalIgnoreCase);
    }

    public Uri Address { get; private set; } = null!;

    /// <summary>Settings a subclass adds before the server starts.</summary>
    protected IDictionary<string, string?> ExtraSettings => _settings;

    public IServiceProvider Services => _factory!.Services;

    public LogLines Logs { get; } = new();

    public string ConnectionString => _database!.ConnectionString;

    public virtual async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("access").WaitAsync(Deadline);
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Fleet:Http:Url"] = "http://127.0.0.1:0",
            ["Fleet:Grpc:Url"] = "http://127.0.0.1:0",
            ["ConnectionStrings:Fleet"] = _database.ConnectionString,
            ["Fleet:LocalAgent:Enabled"] = "false",
            ["Fleet:Database:MigrateOnStart"] = "true",
        };
        foreach (var (key, value) in _settings)
        {
            settings[key] = value;
        }
        _factory = new Factory(settings, Logs, ConfigureServices);
        _factory.UseKestrel();
        await Task.Run(_factory.StartServer).WaitAsync(Deadline);
        Address = _factory.Services.GetRequiredService<FleetEndpoints>().HttpAddress ?? throw new InvalidOperationException("no HTTP address");
    }

    public virtual async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync().AsTask().WaitAsync(Deadline);
        }
        if (_database is not null)
        {
            await _database.DisposeAsync().AsTask().WaitAsync(Deadline);
        }
    }

    public void Dispose()
    {
        _factory?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A browser-like client: its own cookies, redirects not followed (the tests read them).</summary>
    public HttpClient NewClient()
    {
        var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseCookies = true };
        return new HttpClient(handler) { BaseAddress = Address, Timeout = Deadline };
    }

    public async Task<UserView> CreateUserAsync(string role, string? name = null, string password = GoodPassword)
    {
        name ??= $"{role}-{Guid.NewGuid():N}"[..20];
        using var scope = Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IUserAdmin>().CreateAsync(name, password, role, "test", CancellationToken.None).WaitAsync(Deadline);
    }

    public async Task<string> CreateTokenAsync(UserView user, string name = "ci-script", TimeSpan? lifetime = null)
    {
        var made = await Services.GetRequiredService<IApiTokens>().CreateAsync(user.Id, name, lifetime, "test", CancellationToken.None).WaitAsync(Deadline);
        return made.Secret;
    }

    public FleetDbContext Db() => Services.GetRequiredService<IDbContextFactory<FleetDbContext>>().CreateDbContext();

    /// <summary>The antiforgery token for the client's current cookies (and user), from the server's token endpoint.</summary>
    public static async Task<string> AntiforgeryTokenAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/account/antiforgery", UriKind.Relative)).WaitAsync(Deadline);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Deadline);
        return body.GetProperty("token").GetString()!;
    }

    /// <summary>Posts the sign-in form as the page does (antiforgery token included) and returns the redirect.</summary>
    public static async Task<HttpResponseMessage> PostSignInAsync(HttpClient client, string userName, string password, string? returnUrl = null, bool withAntiforgery = true)
    {
        var fields = new Dictionary<string, string> { ["userName"] = userName, ["password"] = password };
        if (returnUrl is not null)
        {
            fields["returnUrl"] = returnUrl;
        }
        if (withAntiforgery)
        {
            fields["__RequestVerificationToken"] = await AntiforgeryTokenAsync(client);
        }
        using var form = new FormUrlEncodedContent(fields);
        return await client.PostAsync(new Uri(AccountRoutes.SignInPost, UriKind.Relative), form).WaitAsync(Deadline);
    }

    /// <summary>Signs in and checks that it worked (a redirect that is not back to the sign-in page).</summary>
    public static async Task SignInAsync(HttpClient client, string userName, string password = GoodPassword)
    {
        using var response = await PostSignInAsync(client, userName, password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.DoesNotContain(AccountRoutes.SignInPage, response.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);
    }

    public static async Task<HttpResponseMessage> GetAsync(HttpClient client, string path) =>
        await client.GetAsync(new Uri(path, UriKind.Relative)).WaitAsync(Deadline);

    /// <summary>A test class's replacements, applied after the server's own registrations.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    private sealed class Factory(Dictionary<string, string?> settings, LogLines logs, Action<IServiceCollection> configure) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
            builder.ConfigureLogging(logging => logging.AddProvider(logs));
            builder.ConfigureTestServices(services =>
            {
                services.Configure<AccessOptions>(o => o.RateLimitWindow = TimeSpan.FromHours(1));
                configure(services);
            });
        }
    }
}

/// <summary>Every log line of the server, by category.</summary>
public sealed class LogLines : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(string Category, LogLevel Level, string Message)> All => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<(string, LogLevel, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                lines.Enqueue((category, logLevel, formatter(state, exception)));
            }
        }
    }
}
