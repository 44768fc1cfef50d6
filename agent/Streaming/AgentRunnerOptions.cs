using Fleet.Contracts.V1;

namespace Fleet.Agent.Streaming;

/// <summary>What an agent needs to run: where the server is, how to prove itself, where to keep its state.</summary>
public sealed class AgentRunnerOptions
{
    /// <summary>The server's AgentIngest endpoint: https://, or http:// on loopback or with <see cref="AllowPlaintext"/>.</summary>
    public required Uri ServerAddress { get; init; }

    /// <summary>The enrollment token, sent in Hello.</summary>
    public required string EnrollmentToken { get; init; }

    /// <summary>The state folder: agent id, next sequence number and the spool of unacknowledged snapshots.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>Time between snapshots until the server configures another (default 10 s).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The procfs root to collect from (default /proc; /host/proc in a container).</summary>
    public string ProcRoot { get; init; } = "/proc";

    /// <summary>The file holding the machine id (default /etc/machine-id).</summary>
    public string MachineIdPath { get; init; } = "/etc/machine-id";

    public bool AllowPlaintext { get; init; }

    /// <summary>A PEM bundle whose certificates are trusted as roots for the server's certificate.</summary>
    public string? CaFile { get; init; }

    /// <summary>
    /// The SHA-256 fingerprint of the server's certificate (64 hex digits, colons allowed, any case): that
    /// certificate alone is trusted, also when it is self-signed or names another host; a different one is
    /// refused before anything is sent. Excludes <see cref="CaFile"/>.
    /// </summary>
    public string? ServerFingerprint { get; init; }

    /// <summary>Local grouping rules, used while the server configures none.</summary>
    public IReadOnlyList<GroupingRule> GroupingRules { get; init; } = [];

    public SpoolLimits SpoolLimits { get; init; } = SpoolLimits.Default;

    /// <summary>Snapshots sent but not yet acknowledged, at most (default 64).</summary>
    public int MaxInFlight { get; init; } = 64;

    /// <summary>Replaces the HTTP handler of the gRPC channel (tests, in-process servers).</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Tests: waits between reconnection attempts instead of Task.Delay.</summary>
    internal Func<TimeSpan, CancellationToken, Task>? ReconnectDelay { get; init; }

    /// <summary>Every problem with these options at once (empty when they can be used).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (IngestChannel.Validate(ServerAddress, AllowPlaintext) is { } address)
        {
            problems.Add($"{nameof(ServerAddress)}: {address}");
        }
        if (string.IsNullOrWhiteSpace(EnrollmentToken))
        {
            problems.Add($"{nameof(EnrollmentToken)}: must not be empty");
        }
        if (string.IsNullOrWhiteSpace(StateDirectory))
        {
            problems.Add($"{nameof(StateDirectory)}: must name a folder");
        }
        if (Interval <= TimeSpan.Zero)
        {
            problems.Add($"{nameof(Interval)}: must be positive, not {Interval}");
        }
        if (string.IsNullOrEmpty(ProcRoot))
        {
            problems.Add($"{nameof(ProcRoot)}: must name a folder");
        }
        if (CaFile is not null && !File.Exists(CaFile))
        {
            problems.Add($"{nameof(CaFile)}: '{CaFile}' does not exist");
        }
        if (IngestChannel.ValidateTrust(ServerAddress, CaFile, ServerFingerprint, HttpHandler is not null, nameof(ServerFingerprint), nameof(CaFile)) is { } trust)
        {
            problems.Add(trust);
        }
        if (SpoolLimits is null || SpoolLimits.MaxSnapshots < 1 || SpoolLimits.MaxBytes < 1)
        {
            problems.Add($"{nameof(SpoolLimits)}: both limits must be positive");
        }
        if (MaxInFlight < 1)
        {
            problems.Add($"{nameof(MaxInFlight)}: must be at least 1");
        }
        return problems;
    }

    internal StreamClientOptions ToStreamClientOptions() => new()
    {
        ServerAddress = ServerAddress,
        EnrollmentToken = EnrollmentToken,
        AllowPlaintext = AllowPlaintext,
        CaFile = CaFile,
        ServerFingerprint = ServerFingerprint,
        HttpHandler = HttpHandler,
        MaxInFlight = MaxInFlight,
        Delay = ReconnectDelay,
    };
}
