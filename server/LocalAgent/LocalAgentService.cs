using Fleet.Agent.Streaming;
using Fleet.Server.Hosting;
using Fleet.Server.Ingest;
using Fleet.Web.Data;
using Microsoft.Extensions.Options;

namespace Fleet.Server.LocalAgent;

/// <summary>
/// Runs a Fleet agent inside the server, streaming this machine to the server's own gRPC endpoint over loopback
/// through the same client code a separate agent uses. It enrolls itself with a fresh token named
/// "local-agent", kept in memory only, and revokes the ones of earlier runs.
/// </summary>
internal sealed partial class LocalAgentService(
    IServiceProvider services,
    FleetEndpoints endpoints,
    IHostApplicationLifetime lifetime,
    IOptions<LocalAgentOptions> options,
    IOptions<AgentConfigOptions> agentConfig,
    ILoggerFactory loggers) : BackgroundService
{
    public const string TokenName = "local-agent";

    private readonly ILogger _logger = loggers.CreateLogger<LocalAgentService>();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await ServerStartedAsync(stoppingToken).ConfigureAwait(false))
        {
            return;
        }
        if (endpoints.GrpcAddress is not { } address)
        {
            LogNoAddress(_logger);
            return;
        }
        if (services.GetService<IEnrollmentAdmin>() is not { } enrollment)
        {
            LogNoStorage(_logger);
            return;
        }
        string token = await EnrollAsync(enrollment, stoppingToken).ConfigureAwait(false);

        string stateDirectory = options.Value.StateDirectory is { Length: > 0 } configured ? configured : DefaultStateDirectory(services);
        var runner = new AgentRunner(
            new AgentRunnerOptions
            {
                ServerAddress = address,
                EnrollmentToken = token,
                StateDirectory = stateDirectory,
                // Until Welcome brings the fleet's configuration (Fleet:AgentConfig), which it then follows like any agent.
                Interval = agentConfig.Value.Interval,
                ProcRoot = options.Value.ProcRoot,
                // The server itself allowed its plaintext endpoint (loopback, or Fleet:Ingest:AllowPlaintext).
                AllowPlaintext = true,
                // With TLS, exactly the server's own certificate (self-signed or not) is trusted.
                ServerFingerprint = endpoints.GrpcCertificate?.Fingerprint,
            },
            loggers.CreateLogger<AgentRunner>());
        LogStarting(_logger, address, stateDirectory);
        try
        {
            await runner.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The server goes on without its own agent (for example another agent holds the state folder).
            LogFailed(_logger, ex, stateDirectory);
        }
    }

    /// <summary>
    /// A fresh token for this run, after revoking the ones earlier runs made (kept in memory only, they cannot be used
    /// again): one live "local-agent" token in the enrollment list, not one per start.
    /// </summary>
    private static async Task<string> EnrollAsync(IEnrollmentAdmin enrollment, CancellationToken ct)
    {
        foreach (var earlier in await enrollment.ListTokensAsync(ct).ConfigureAwait(false))
        {
            if (earlier.Name == TokenName && earlier.RevokedAt is null)
            {
                await enrollment.RevokeTokenAsync(earlier.Id, Actor, ct).ConfigureAwait(false);
            }
        }
        return (await enrollment.CreateTokenAsync(TokenName, Actor, ct).ConfigureAwait(false)).Secret;
    }

    /// <summary>Who the audit log names for the local agent's tokens.</summary>
    public const string Actor = "one-command mode";

    /// <summary>"agent" beside the local database's folder (/var/lib/fleet/agent as root), else under Fleet's data root.</summary>
    internal static string DefaultStateDirectory(IServiceProvider services)
    {
        if (services.GetService<LocalDatabaseRunner>() is { } database
            && Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(database.DataDirectory)) is { Length: > 0 } parent)
        {
            return Path.Combine(parent, "agent");
        }
        return Path.Combine(FleetPaths.DataRoot(), "agent");
    }

    private async Task<bool> ServerStartedAsync(CancellationToken ct)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = ct.Register(() => started.TrySetCanceled(ct));
        try
        {
            await started.Task.ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Local agent streaming this machine to {Address} (state in {StateDirectory})")]
    private static partial void LogStarting(ILogger logger, Uri address, string stateDirectory);

    [LoggerMessage(Level = LogLevel.Error, Message = "Local agent stopped (state in {StateDirectory}); the server goes on without it")]
    private static partial void LogFailed(ILogger logger, Exception exception, string stateDirectory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Local agent not started: the gRPC endpoint's address is not known")]
    private static partial void LogNoAddress(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Local agent not started: no enrollment store is registered (IEnrollmentAdmin)")]
    private static partial void LogNoStorage(ILogger logger);
}

public static class LocalAgentHostingExtensions
{
    /// <summary>Registers the in-process agent when <c>Fleet:LocalAgent:Enabled</c> says so (default: in the one-command mode).</summary>
    public static IServiceCollection AddLocalAgent(this IServiceCollection services, IConfiguration configuration, bool oneCommandMode)
    {
        services.AddOptions<LocalAgentOptions>().Bind(configuration.GetSection(LocalAgentOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LocalAgentOptions>, LocalAgentOptionsValidator>();
        bool enabled = configuration.GetSection(LocalAgentOptions.Section).GetValue<bool?>(nameof(LocalAgentOptions.Enabled)) ?? oneCommandMode;
        if (enabled)
        {
            services.AddHostedService<LocalAgentService>();
        }
        return services;
    }
}
