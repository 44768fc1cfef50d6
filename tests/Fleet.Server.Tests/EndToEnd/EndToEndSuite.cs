namespace Fleet.Server.Tests.EndToEnd;

/// <summary>
/// The end-to-end tests: each runs a real agent (reading this machine's /proc), the real server on real
/// loopback ports and real PostgreSQL. They fight over the two cores and over fixed ports, so they run one at
/// a time, after the parallel tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndSuite
{
    public const string Name = "EndToEnd";
}
