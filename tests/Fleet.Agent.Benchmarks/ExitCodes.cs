namespace Fleet.Agent.Benchmarks;

internal static class ExitCodes
{
    /// <summary>The report was made, whether or not the targets were met.</summary>
    public const int Reported = 0;

    /// <summary>The agent's figures for a changed process differed from /proc.</summary>
    public const int NotExact = 1;

    /// <summary>The workload, the C programs or the agent could not be set up.</summary>
    public const int SetupFailed = 2;

    public const int Usage = 64;
}
