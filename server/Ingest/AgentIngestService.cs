using Fleet.Contracts.V1;
using Grpc.Core;

namespace Fleet.Server.Ingest;

/// <summary>The gRPC edge of ingest: takes the caller's address and hands the stream to <see cref="SnapshotIngestor"/>.</summary>
public sealed class AgentIngestService(SnapshotIngestor ingestor) : AgentIngest.AgentIngestBase
{
    public override Task Connect(
        IAsyncStreamReader<AgentMessage> requestStream,
        IServerStreamWriter<ServerMessage> responseStream,
        ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ingestor.RunAsync(requestStream, responseStream, PeerAddress(context), context.CancellationToken);
    }

    /// <summary>"203.0.113.7:51234" from the connection; gRPC's own "ipv4:..." form when there is no HTTP context.</summary>
    private static string PeerAddress(ServerCallContext context)
    {
        var connection = context.GetHttpContext()?.Connection;
        if (connection?.RemoteIpAddress is { } ip)
        {
            var address = ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;
            return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? $"[{address}]:{connection.RemotePort}"
                : $"{address}:{connection.RemotePort}";
        }
        return context.Peer;
    }
}
