using System.Reflection;

namespace Fleet.Agent.Benchmarks.Native;

/// <summary>Compiles the runner's embedded C sources with the host's gcc into the scratch folder.</summary>
internal static class Gcc
{
    /// <summary>Writes the embedded source <paramref name="resourceName"/> next to the binary and compiles it.</summary>
    public static async Task<string> CompileEmbeddedAsync(string resourceName, string directory)
    {
        string source = Path.Combine(directory, resourceName);
        string binary = Path.Combine(directory, Path.GetFileNameWithoutExtension(resourceName));
        using (var embedded = Assembly.GetExecutingAssembly().GetManifestResourceStream(resourceName)
            ?? throw new SetupException($"the runner has no embedded resource '{resourceName}'"))
        using (var file = File.Create(source))
        {
            await embedded.CopyToAsync(file);
        }
        var result = await ChildProcess.RunAsync("gcc", ["-O2", "-Wall", "-o", binary, source], TimeSpan.FromMinutes(2));
        if (!result.Succeeded)
        {
            throw new SetupException($"gcc could not compile {resourceName}:\n{result.Tail()}");
        }
        return binary;
    }
}
