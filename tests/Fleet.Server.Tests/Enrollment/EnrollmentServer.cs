using System.Globalization;
using System.Net.Http.Headers;
using Fleet.Server.Hosting;
using Fleet.Server.Tests.EndToEnd;
using Fleet.Server.Tests.Infrastructure;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Fleet.Server.Tests.Enrollment;

/// <summary>
/// The real server on Kestrel (127.0.0.1, both endpoints on port 0) with real storage on a database of its own,
/// and a test sign-in: a request names its user and role in <see cref="UserHeader"/> and <see cref="RoleHeader"/>
/// (none: anonymous). The fleet policies are the shared contract's: "at least this role"; they never name a scheme.
/// </summary>
internal sealed class EnrollmentServer : WebApplicationFactory<Program>
{
    public const string UserHeader = TestSignIn.UserHeader;
    public const string RoleHeader = TestSignIn.RoleHeader;
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly Dictionary<string, string?> _settings;

    private EnrollmentServer(TestDatabase database, IDictionary<string, string?>? settings)
    {
        Database = database;
        _settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Fleet:Http:Url"] = "http://127.0.0.1:0",
            ["Fleet:Grpc:Url"] = "http://127.0.0.1:0",
            ["ConnectionStrings:Fleet"] = database.ConnectionString,
            ["Fleet:LocalAgent:Enabled"] = "false",
            ["Fleet:Database:MigrateOnStart"] = "true",
            ["Fleet:AgentConfig:Interval"] = "00:00:01",
            ["Fleet:Ingest:MaxMessageSize"] = (16 * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
        UseKestrel();
    }

    public TestDatabase Database { get; }

    public Uri Http { get; private set; } = null!;

    public Uri Grpc { get; private set; } = null!;

    public LogSink Logs { get; } = new();

    /// <summary>A token name or agent id no other test uses (at most 64 characters, a token name's limit).</summary>
    public static string UniqueName(string prefix)
    {
        string name = $"{prefix}-{Guid.NewGuid():N}";
        return name.Length > 64 ? name[..64] : name;
    }

    public IEnrollmentAdmin Admin => Services.GetRequiredService<IEnrollmentAdmin>();

    /// <summary>A fresh database, the server started on it (migrated), its logs kept in <see cref="Logs"/>.</summary>
    public static async Task<EnrollmentServer> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var database = await PostgresServer.CreateDatabaseAsync("enroll").WaitAsync(Timeout);
        var server = new EnrollmentServer(database, settings);
        try
        {
            await Task.Run(() =>
            {
                server.StartServer();
                var endpoints = server.Services.GetRequiredService<FleetEndpoints>();
                server.Http = endpoints.HttpAddress ?? throw new InvalidOperationException("no HTTP address");
                server.Grpc = endpoints.GrpcAddress ?? throw new InvalidOperationException("no gRPC address");
            }).WaitAsync(Timeout);
            server.Services.GetRequiredService<ILoggerFactory>().AddProvider(server.Logs);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>An HTTP client signed in as <paramref name="user"/> with <paramref name="role"/> (null: anonymous).</summary>
    public HttpClient Client(string? user = null, string? role = null)
    {
        var client = new HttpClient { BaseAddress = Http, Timeout = Timeout };
        if (user is not null && role is not null)
        {
            client.DefaultRequestHeaders.Add(UserHeader, user);
            client.DefaultRequestHeaders.Add(RoleHeader, role);
        }
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public Task<long> ScalarAsync(string sql, params object[] parameters) => SqlQueries.ScalarAsync(Database.ConnectionString, sql, parameters);

    public Task<List<T>> RowsAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object[] parameters) =>
        SqlQueries.RowsAsync(Database.ConnectionString, sql, read, parameters);

    /// <summary>The audit entries of enrollment tokens: (actor, action, entity id, entity name, after), oldest first.</summary>
    public Task<List<(string Actor, string Action, string? Id, string? Name, string? After)>> TokenAuditAsync() =>
        RowsAsync(
            "SELECT actor, action, entity_id, entity_name, after::text FROM audit_log WHERE entity = 'enrollment-token' ORDER BY id",
            r => (r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4)));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureTestServices(services =>
        {
            services.UseTestSignInAsDefault();
        });
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            Logs.Dispose();
            await Database.DisposeAsync();
        }
    }
}
