namespace Fleet.Web.Data;

/// <summary>
/// What the agent enrollment page prints in the <c>fleet-agent run</c> line: the URL agents reach the gRPC ingest at
/// (as seen from the hosts, not the address it binds) and the trust arguments they need (<c>--ca-file PATH</c>, a
/// certificate pin). The server registers it; without it the page shows <see cref="Placeholder"/>.
/// </summary>
public sealed record AgentEndpointHint(string ServerUrl, string? TrustArguments = null)
{
    public static AgentEndpointHint Placeholder { get; } = new("https://FLEET-SERVER:5081");

    public const string TokenFile = "/etc/fleet/agent.token";
    public const string StateDir = "/var/lib/fleet-agent";

    /// <summary>The line an admin runs on a host (the token itself goes into <see cref="TokenFile"/>, not onto the command line, where ps shows it).</summary>
    public string RunCommand() =>
        $"fleet-agent run --server {ServerUrl} --token-file {TokenFile} --state-dir {StateDir}" + (TrustArguments is { Length: > 0 } t ? " " + t : "");

    /// <summary>Writes the token to <see cref="TokenFile"/>, readable by root only from the start.</summary>
    public static string WriteTokenCommand(string token) =>
        $"printf '%s' '{token}' | sudo install -D -m 600 /dev/stdin {TokenFile}";
}
