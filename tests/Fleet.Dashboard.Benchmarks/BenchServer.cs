using Fleet.Server.Hosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Dashboard.Benchmarks;

/// <summary>
/// The real server (Program, as deployed: Production environment, real storage on the benchmark's database, the
/// UI, ingest, the live bus) on Kestrel with both endpoints on 127.0.0.1 port 0; no local agent.
/// </summary>
internal sealed class BenchServer : WebApplicationFactory<global::Program>
{
    private readonly string _connectionString;

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
