namespace Fleet.Agent.Benchmarks;

/// <summary>
/// A temporary folder for the compiled helpers, the held file and the published agent. Removed on
/// dispose, and also when the runner is stopped by a signal (finally blocks do not run then).
/// </summary>
internal sealed class ScratchFolder : IDisposable
{
    private readonly EventHandler _onExit;
    private int _disposed;

    public ScratchFolder()
    {
        Path = Directory.CreateTempSubdirectory("fleet-bench-").FullName;
        _onExit = (_, _) => Dispose();
        AppDomain.CurrentDomain.ProcessExit += _onExit;
    }

    public string Path { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        AppDomain.CurrentDomain.ProcessExit -= _onExit;
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"could not remove {Path}: {e.Message}");
        }
    }
}
