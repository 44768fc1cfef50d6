using System.Net;
using System.Net.Sockets;
using Fleet.Contracts.V1;
using Grpc.Core;

namespace Fleet.Server.Ingest;

/// <summary>
/// The gRPC edge of ingest: admits the call under the per-address connection limit (<see cref="ConnectLimiter"/>),
/// takes the caller's address and hands the stream to <see cref="SnapshotIngestor"/>.
/// </summary>
public sealed class AgentIngestService(SnapshotIngestor ingestor, ConnectLimiter connects) : AgentIngest.AgentIngestBase
{
    public override Task Connect(
        IAsyncStreamReader<AgentMessage> requestStream,
        IServerStreamWriter<ServerMessage> responseStream,
        ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var connection = context.GetHttpContext()?.Connection;
        var ip = connection?.RemoteIpAddress is { } remote && remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : connection?.RemoteIpAddress;
        connects.Admit(ip is null ? context.Peer : LimitKey(ip));
        return ingestor.RunAsync(requestStream, responseStream, PeerAddress(ip, connection?.RemotePort ?? 0, context), context.CancellationToken);
    }

    /// <summary>
    /// Whom the connection limit counts: an IPv4 address, or the /64 network of an IPv6 one (a single host commonly
    /// holds a whole /64, so counting single IPv6 addresses would let it make as many buckets as it likes).
    /// </summary>
    internal static string LimitKey(IPAddress ip)
    {
        if (ip.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return ip.ToString();
        }
        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return $"{new IPAddress(bytes)}/64";
    }

    /// <summary>"203.0.113.7:51234" from the connection; gRPC's own "ipv4:..." form when there is no HTTP context.</summary>
    private static string PeerAddress(IPAddress? ip, int port, ServerCallContext context)
    {
        if (ip is null)
        {
            return context.Peer;
        }
        return ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]:{port}" : $"{ip}:{port}";
    }
}
