using System.Text.Json;
using Fleet.Agent.Benchmarks.Procfs;

namespace Fleet.Agent.Benchmarks.Measurement;

/// <summary>
/// The agent's answer to "collect [PID]": the cost of one host collection as the agent measured it
/// itself, and the figures of the asked-for process (null when it was not asked for or not seen).
/// </summary>
internal sealed record AgentCollection(
    long CpuMicroseconds,
    long WallMicroseconds,
    long ResidentBytes,
    long Processes,
    long Rescanned,
    long FdsRead,
    long Vanished,
    long Unreadable,
    ProcessFigures? Process)
{
    public TimeSpan Cpu => TimeSpan.FromMicroseconds(CpuMicroseconds);

    public TimeSpan Wall => TimeSpan.FromMicroseconds(WallMicroseconds);

    public static AgentCollection Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.TryGetProperty("error", out var error))
        {
            throw new SetupException($"the agent answered an error: {error}");
        }
        ProcessFigures? process = null;
        if (root.TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Object)
        {
            process = new ProcessFigures(
                pid.GetProperty("open_fds").GetInt64(),
                Counts(pid.GetProperty("fds")),
                Counts(pid.GetProperty("tcp")),
                Counts(pid.GetProperty("close_wait_remotes")),
                pid.GetProperty("nofile_soft").GetInt64(),
                pid.GetProperty("nofile_hard").GetInt64());
        }
        return new AgentCollection(
            root.GetProperty("cpu_us").GetInt64(),
            root.GetProperty("wall_us").GetInt64(),
            root.GetProperty("rss_bytes").GetInt64(),
            root.GetProperty("processes").GetInt64(),
            root.GetProperty("rescanned").GetInt64(),
            root.GetProperty("fds_read").GetInt64(),
            root.GetProperty("vanished").GetInt64(),
            root.GetProperty("unreadable").GetInt64(),
            process);
    }

    private static IReadOnlyDictionary<string, long> Counts(JsonElement table) =>
        ProcessFigures.NonZero(table.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetInt64())));
}
