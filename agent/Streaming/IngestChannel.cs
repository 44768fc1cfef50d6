using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;

namespace Fleet.Agent.Streaming;

/// <summary>
/// The HTTP/2 connection to the server's AgentIngest service: TLS (trusting the system's roots, a private CA
/// bundle, or exactly one pinned server certificate), plaintext only where allowed, keep-alive pings so that a silently dead peer is noticed, and one
/// connection per agent held open for as long as the agent runs.
/// </summary>
internal static class IngestChannel
{
    public static TimeSpan KeepAlivePingDelay { get; } = TimeSpan.FromSeconds(20);
    public static TimeSpan KeepAlivePingTimeout { get; } = TimeSpan.FromSeconds(10);
    public static TimeSpan ConnectTimeout { get; } = TimeSpan.FromSeconds(10);

    /// <summary>Why the address may not be used, or null when it may: https always, http only when allowed or on loopback.</summary>
    public static string? Validate(Uri? address, bool allowPlaintext)
    {
        if (address is null || !address.IsAbsoluteUri)
        {
            return "the server address must be an absolute URL such as https://fleet.example:7443";
        }
        if (address.Scheme == Uri.UriSchemeHttps)
        {
            return null;
        }
        if (address.Scheme != Uri.UriSchemeHttp)
        {
            return $"the server address must start with https:// (or http://), not '{address.Scheme}://'";
        }
        if (allowPlaintext || IsLoopback(address))
        {
            return null;
        }
        return $"'{address}' is plaintext http to a host that is not loopback: use https://, or pass --allow-plaintext (the enrollment token would cross the network in clear)";
    }

    public static bool IsLoopback(Uri address) =>
        address.IsLoopback || (IPAddress.TryParse(address.DnsSafeHost, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>
    /// Why the server's certificate cannot be checked as asked, or null: a pin needs https, excludes a CA
    /// bundle (the pin alone decides), and cannot be applied to a replaced HTTP handler. Names the options
    /// the way the caller spells them.
    /// </summary>
    public static string? ValidateTrust(Uri? address, string? caFile, string? fingerprint, bool handlerReplaced, string fingerprintName, string caFileName)
    {
        if (fingerprint is null)
        {
            return null;
        }
        if (ServerFingerprint.TryParse(fingerprint, out string? problem) is null)
        {
            return $"{fingerprintName}: {problem}";
        }
        if (address is not null && address.IsAbsoluteUri && address.Scheme != Uri.UriSchemeHttps)
        {
            return $"{fingerprintName}: pins the server's TLS certificate, but the server address '{address}' is not https://";
        }
        if (caFile is not null)
        {
            return $"{fingerprintName} and {caFileName}: give one (with a pinned fingerprint, that certificate alone is trusted)";
        }
        if (handlerReplaced)
        {
            return $"{fingerprintName}: cannot be applied to a replaced HTTP handler";
        }
        return null;
    }

    public static GrpcChannel Create(StreamClientOptions options, ServerCertificateCheck? check = null)
    {
        string? problem = Validate(options.ServerAddress, options.AllowPlaintext);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(options));
        }
        HttpMessageHandler handler;
        bool ownsHandler;
        if (options.HttpHandler is { } injected)
        {
            handler = injected;
            ownsHandler = false;
        }
        else
        {
            var sockets = new SocketsHttpHandler
            {
                // One long-lived HTTP/2 connection: never closed for idleness, probed by pings instead.
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = KeepAlivePingDelay,
                KeepAlivePingTimeout = KeepAlivePingTimeout,
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                EnableMultipleHttp2Connections = false,
                ConnectTimeout = ConnectTimeout,
            };
            // Chain and name errors do not matter with a pin (a self-signed certificate has both); the
            // fingerprint does, always. A refused handshake ends the connection before any request.
            var ssl = new SslClientAuthenticationOptions();
            if (check is not null)
            {
                ssl.RemoteCertificateValidationCallback = (_, presented, _, errors) => check.Check(presented, errors);
            }
            if (options.CaFile is { } caFile)
            {
                ssl.CertificateChainPolicy = TrustingCaBundle(caFile);
            }
            sockets.SslOptions = ssl;
            handler = sockets;
            ownsHandler = true;
        }
        return GrpcChannel.ForAddress(options.ServerAddress, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = ownsHandler,
            // Snapshots of big hosts can exceed the 4 MB default; the server sets what it accepts.
            MaxSendMessageSize = null,
        });
    }

    /// <summary>A chain policy that trusts the certificates of a PEM bundle as roots (and nothing else).</summary>
    public static X509ChainPolicy TrustingCaBundle(string caFile)
    {
        var bundle = new X509Certificate2Collection();
        try
        {
            bundle.ImportFromPemFile(caFile);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new ArgumentException($"{caFile}: not a PEM certificate bundle: {e.Message}", nameof(caFile), e);
        }
        if (bundle.Count == 0)
        {
            throw new ArgumentException($"{caFile}: holds no PEM certificate", nameof(caFile));
        }
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(bundle);
        return policy;
    }
}
