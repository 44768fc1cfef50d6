namespace Fleet.Browser.Tests.Browsing;

/// <summary>Where test artifacts go: under the repository root (the folder holding Fleet.sln above the test's binaries).</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string TestResults => Created(Path.Combine(Root.Value, "TestResults"));

    public static string Screenshots => Created(Path.Combine(Root.Value, "TestResults", "screenshots"));

    private static string Created(string dir)
    {
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Fleet.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no Fleet.sln above {AppContext.BaseDirectory}");
    }
}
