namespace Fleet.Dashboard.Benchmarks;

internal static class ExitCodes
{
    /// <summary>The report was made, whether or not the targets were met.</summary>
    public const int Reported = 0;

    /// <summary>The cluster, the server, the browser or a measurement could not be set up or did not complete.</summary>
    public const int Failed = 2;

    public const int Usage = 64;
}
