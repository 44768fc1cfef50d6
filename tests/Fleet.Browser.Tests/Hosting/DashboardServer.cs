using Fleet.Server.Hosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fleet.Browser.Tests.Hosting;

/// <summary>
/// The real server (Program) on Kestrel, both endpoints on 127.0.0.1 port 0, with real storage on
/// <paramref name="connectionString"/> (migrated on start) and its in-process agent (server/LocalAgent) streaming
/// this machine's /proc over loopback gRPC every second. A grouping rule puts every process whose command line
/// holds <paramref name="leakerMarker"/> into the service <see cref="LeakyService"/>. Its log goes to <paramref name="logs"/>.
/// </summary>
internal sealed class DashboardServer(string connectionString, string agentStateDirectory, string leakerMarker, ILoggerProvider logs)
    : WebApplicationFactory<Program>
{
    public const string LeakyService = "leaky-client";

    /// <summary>What the server's AddAlerts reads (nothing needed: its defaults).</summary>
    private static IConfiguration Configuration { get; } = new ConfigurationBuilder().Build();

    /// <summary>Starts the server (once) and returns where the pages are served.</summary>
    public Uri Start()
    {
        UseKestrel();
        StartServer();
        return Services.GetRequiredService<FleetEndpoints>().HttpAddress ?? throw new InvalidOperationException("the server has no HTTP address");
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        var settings = new Dictionary<string, string>
        {
            ["Fleet:Http:Url"] = "http://127.0.0.1:0",
            ["Fleet:Grpc:Url"] = "http://127.0.0.1:0",
            ["ConnectionStrings:Fleet"] = connectionString,
            ["Fleet:Database:MigrateOnStart"] = "true",
            ["Fleet:LocalAgent:Enabled"] = "true",
            ["Fleet:LocalAgent:StateDirectory"] = agentStateDirectory,
            ["Fleet:AgentConfig:Interval"] = "00:00:01",
            ["Fleet:AgentConfig:GroupingRules:0:Field"] = "cmdline",
            ["Fleet:AgentConfig:GroupingRules:0:Pattern"] = leakerMarker,
            ["Fleet:AgentConfig:GroupingRules:0:ServiceTemplate"] = LeakyService,
            // What a production server accepts: a real host's snapshot may be larger than 1 MiB.
            ["Fleet:Ingest:MaxMessageSize"] = (16 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        // UseSetting: read while Program builds (connection string, local agent switch).
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
        // From the first line on, so a failed start (migrations, options) is in the log too.
        builder.ConfigureLogging(logging => logging.AddProvider(logs));
    }
}
