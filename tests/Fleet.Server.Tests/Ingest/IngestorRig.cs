using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Tests.Ingest;

/// <summary>The ingestor in memory, as the server wires it: the fake store, a real batcher, stream registry, snapshot
/// limiter and configuration publisher (10 s), with its log kept.</summary>
internal sealed class IngestorRig : IAsyncDisposable, IDisposable
{
    public const string Peer = "192.0.2.10:50000";

    public IngestorRig()
    {
        var options = Options.Create(new IngestOptions());
        Limiter = new AgentSnapshotLimiter(options);
        Batcher = new SnapshotBatcher(Store, Options.Create(new SnapshotBatchingOptions()), new ListLogger<SnapshotBatcher>());
        Ingestor = new SnapshotIngestor(Store, Batcher, new SnapshotValidator(options, TimeProvider.System), Config, Streams, Limiter, options, Log);
    }

    public FakeIngestStore Store { get; } = new();

    public AgentConfigPublisher Config { get; } = new(new AgentConfig { Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)) });

    public AgentStreams Streams { get; } = new();

    public ListLogger<SnapshotIngestor> Log { get; } = new();

    public AgentSnapshotLimiter Limiter { get; }

    public SnapshotBatcher Batcher { get; }

    public SnapshotIngestor Ingestor { get; }

    private bool _disposed;

    /// <summary>Drains the batcher, then frees the rest.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            await Batcher.DisposeAsync();
        }
        Dispose();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Streams.Dispose();
        Limiter.Dispose();
    }
}
