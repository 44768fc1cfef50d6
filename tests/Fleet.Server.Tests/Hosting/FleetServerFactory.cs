using Fleet.Server.Api;
using Fleet.Server.Hosting;
using Fleet.Server.Ingest;
using Fleet.Server.Tests.Api;
using Fleet.Server.Tests.Infrastructure;
using Fleet.Server.Tests.Ingest;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Fleet.Server.Tests.Hosting;

/// <summary>
/// The real server on Kestrel with real ports on 127.0.0.1 (both endpoints on port 0), storage replaced by
/// in-memory fakes, no local database and no local agent unless a test asks for them. Requests sign in by
/// <see cref="TestSignIn"/>'s headers (the real policies apply) unless <c>realSignIn</c> keeps the server's own
/// cookie and API-token schemes as the default.
/// </summary>
internal sealed class FleetServerFactory : WebApplicationFactory<Program>
{
    /// <summary>A database nobody answers on: the fakes replace storage, and readiness reports it down.</summary>
    public const string UnreachableDatabase = "Host=127.0.0.1;Port=1;Username=fleet;Database=fleet;Timeout=2";

    private readonly Dictionary<string, string?> _settings;
    private readonly bool _fakeStorage;
    private readonly bool _realSignIn;

    public FleetServerFactory(IDictionary<string, string?>? settings = null, bool fakeStorage = true, bool realSignIn = false)
    {
        _fakeStorage = fakeStorage;
        _realSignIn = realSignIn;
        _settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Fleet:Http:Url"] = "http://127.0.0.1:0",
            ["Fleet:Grpc:Url"] = "http://127.0.0.1:0",
            ["ConnectionStrings:Fleet"] = UnreachableDatabase,
            ["Fleet:LocalAgent:Enabled"] = "false",
            ["Fleet:Database:MigrateOnStart"] = "false",
            ["Fleet:Ingest:MaxMessageSize"] = (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
        UseKestrel();
    }

    public FakeIngestStore Store { get; } = new();

    public FakeFleetQueries Queries { get; } = new();

    /// <summary>Starts the server (once) and returns where the API and the gRPC endpoint listen.</summary>
    public (Uri Http, Uri Grpc) Start()
    {
        StartServer();
        var endpoints = Services.GetRequiredService<FleetEndpoints>();
        return (endpoints.HttpAddress ?? throw new InvalidOperationException("no HTTP address"),
            endpoints.GrpcAddress ?? throw new InvalidOperationException("no gRPC address"));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // UseSetting: read while Program builds (connection string, local database and agent switches).
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureTestServices(services =>
        {
            if (!_realSignIn)
            {
                services.UseTestSignInAsDefault();
            }
            if (!_fakeStorage)
            {
                return;
            }
            services.RemoveAll<IIngestStore>();
            services.RemoveAll<IFleetQueries>();
            services.RemoveAll<IEnrollmentTokenCatalog>();
            services.AddSingleton<IIngestStore>(Store);
            services.AddSingleton<IEnrollmentTokenCatalog>(Store);
            services.AddSingleton<IFleetQueries>(Queries);
            // Storage's own background work (partitions, rollups) has no database to talk to here.
            foreach (var hosted in services.Where(d => d.ServiceType == typeof(IHostedService) && IsStorages(d)).ToList())
            {
                services.Remove(hosted);
            }
        });
    }

    /// <summary>Registered by storage: its type, or the lambda that makes it, lives in Fleet.Server.Storage.</summary>
    private static bool IsStorages(ServiceDescriptor d)
    {
        var type = d.ImplementationType ?? d.ImplementationInstance?.GetType() ?? d.ImplementationFactory?.Method.DeclaringType;
        return type?.FullName?.StartsWith("Fleet.Server.Storage", StringComparison.Ordinal) ?? false;
    }
}
