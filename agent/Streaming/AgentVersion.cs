using System.Reflection;

namespace Fleet.Agent.Streaming;

/// <summary>The agent's version as it is sent in Hello and in every snapshot.</summary>
internal static class AgentVersion
{
    public static string Current { get; } =
        typeof(AgentVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
