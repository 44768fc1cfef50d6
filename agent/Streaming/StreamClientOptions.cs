namespace Fleet.Agent.Streaming;

/// <summary>How one agent's stream reaches the server and behaves when it cannot.</summary>
internal sealed class StreamClientOptions
{
    public required Uri ServerAddress { get; init; }

    public required string EnrollmentToken { get; init; }

    /// <summary>Allow http:// to a host that is not loopback.</summary>
    public bool AllowPlaintext { get; init; }

    /// <summary>A PEM bundle whose certificates are trusted as roots for the server's certificate.</summary>
    public string? CaFile { get; init; }

    /// <summary>
    /// The SHA-256 of the server's certificate (hex, colons allowed): that certificate alone is trusted,
    /// whatever its chain and names; any other refuses the connection before Hello.
    /// </summary>
    public string? ServerFingerprint { get; init; }

    /// <summary>Replaces the SocketsHttpHandler (tests); keep-alive and TLS settings are then the handler's.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Snapshots sent but not yet acknowledged, at most.</summary>
    public int MaxInFlight { get; init; } = 64;

    /// <summary>How long to wait for Welcome after Hello before giving up on the attempt.</summary>
    public TimeSpan WelcomeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A stream that lasted this long (or had a snapshot acknowledged) was healthy: backoff starts over.</summary>
    public TimeSpan HealthyAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a stopping agent waits for the server to finish its side of the stream (and its last acks).</summary>
    public TimeSpan GracefulCloseTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan BackoffInitial { get; init; } = ReconnectBackoff.DefaultInitial;

    public TimeSpan BackoffCap { get; init; } = ReconnectBackoff.DefaultCap;

    /// <summary>A fraction in [0, 1] for the full jitter (tests pin it); default random.</summary>
    public Func<double>? Jitter { get; init; }

    /// <summary>Waits between attempts (tests record the delays instead of sleeping); default Task.Delay.</summary>
    public Func<TimeSpan, CancellationToken, Task>? Delay { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
