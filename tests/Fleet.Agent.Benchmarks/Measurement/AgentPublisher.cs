using Fleet.Agent.Benchmarks.Native;

namespace Fleet.Agent.Benchmarks.Measurement;

/// <summary>Publishes fleet-agent with NativeAOT, as it ships, into the scratch folder.</summary>
internal static class AgentPublisher
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);

    public static async Task<string> PublishAsync(string repoRoot, string scratch)
    {
        string project = Path.Combine(repoRoot, "agent", "Fleet.Agent.csproj");
        string output = Path.Combine(scratch, "agent");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var result = await ChildProcess.RunAsync(dotnet,
        [
            "publish", project,
            "-c", "Release",
            "-r", "linux-x64",
            "-p:PublishAot=true",
            "-o", output,
            // Own bin/obj under the scratch folder: no clash with builds of the working tree running meanwhile.
            "--artifacts-path", Path.Combine(scratch, "artifacts"),
            // No MSBuild or compiler servers left behind: they would be part of the measured host.
            "--disable-build-servers",
            "-nologo",
        ], PublishTimeout, repoRoot);
        string agent = Path.Combine(output, "fleet-agent");
        if (!result.Succeeded || !File.Exists(agent))
        {
            throw new SetupException($"dotnet publish of {project} failed (exit {result.ExitCode}):\n{result.Tail()}");
        }
        return agent;
    }

    /// <summary>The folder holding Fleet.sln: the given one, or the nearest above the working directory or the runner.</summary>
    public static string FindRepoRoot(string? given)
    {
        if (given is not null)
        {
            return File.Exists(Path.Combine(given, "Fleet.sln"))
                ? Path.GetFullPath(given)
                : throw new SetupException($"--repo {given}: no Fleet.sln there");
        }
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Fleet.sln")))
                {
                    return dir.FullName;
                }
            }
        }
        throw new SetupException("cannot find Fleet.sln above the working directory: pass --repo PATH or --agent PATH");
    }
}
