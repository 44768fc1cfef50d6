using Grpc.AspNetCore.Server;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Ingest;

public static class IngestServiceCollectionExtensions
{
    /// <summary>Storage's raw retention (Fleet:Storage:RawRetentionDays), the default oldest snapshot accepted.</summary>
    public const string RawRetentionDaysKey = "Fleet:Storage:RawRetentionDays";

    /// <summary>
    /// The ingest stream: gRPC with gzip both ways and the message size bound, the validator, the stream
    /// registry (and the watch that cuts streams whose token was revoked elsewhere), the per-agent snapshot and
    /// per-address connection limits, the configuration publisher and the snapshot batcher. Storage registers
    /// <see cref="IIngestStore"/>.
    /// </summary>
    public static IServiceCollection AddIngest(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IngestOptions>()
            .Bind(configuration.GetSection(IngestOptions.Section))
            .PostConfigure(options =>
            {
                // Unless set, snapshots are accepted as far back as storage keeps raw samples.
                if (configuration.GetSection(IngestOptions.Section)[nameof(IngestOptions.MaxSnapshotAge)] is null
                    && configuration.GetValue<int?>(RawRetentionDaysKey) is int days and > 0)
                {
                    options.MaxSnapshotAge = TimeSpan.FromDays(days);
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>();
        services.AddOptions<AgentConfigOptions>().Bind(configuration.GetSection(AgentConfigOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentConfigOptions>, AgentConfigOptionsValidator>();
        services.AddOptions<SnapshotBatchingOptions>().Bind(configuration.GetSection(SnapshotBatchingOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SnapshotBatchingOptions>, SnapshotBatchingOptionsValidator>();

        // gzip: requests compressed with it are accepted (a default provider), responses are compressed with it.
        services.AddGrpc(grpc =>
        {
            grpc.ResponseCompressionAlgorithm = "gzip";
            grpc.EnableDetailedErrors = false;
        });
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<IngestOptions>>((grpc, ingest) =>
        {
            grpc.MaxReceiveMessageSize = ingest.Value.MaxMessageSize;
            grpc.MaxSendMessageSize = ingest.Value.MaxMessageSize;
        });

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SnapshotValidator>();
        services.AddSingleton<AgentConfigPublisher>();
        services.AddSingleton<AgentStreams>();
        services.AddSingleton<AgentSnapshotLimiter>();
        services.AddSingleton<ConnectLimiter>();
        services.AddHostedService<RevocationWatch>();
        // Snapshots of all streams are stored in shared transactions; disposed with the host (drains its queue).
        services.AddSingleton<SnapshotBatcher>();
        services.AddSingleton<SnapshotIngestor>();
        services.AddHostedService<IngestShutdown>();
        return services;
    }

    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder endpoints)
    {
        // No sign-in here: agents prove themselves with their enrollment token in Hello.
        endpoints.MapGrpcService<AgentIngestService>().AllowAnonymous();
        return endpoints;
    }
}
