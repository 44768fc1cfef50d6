namespace Fleet.Agent.Benchmarks.Workload;

/// <summary>
/// How much the holders keep open. Clients hold files, pipes, eventfds and TCP connections; servers run
/// the loopback listeners and keep the accepted side of every connection (ESTABLISHED, or FIN_WAIT2
/// across from a client's CLOSE_WAIT), so both sides count. The defaults give about 23,500 fds and
/// 8,000 TCP sockets across 12 processes.
/// </summary>
internal sealed record WorkloadPlan
{
    public int Clients { get; init; } = 10;
    public int Servers { get; init; } = 2;

    /// <summary>Listeners that accept and shut their sending end at once: their clients sit in CLOSE_WAIT.</summary>
    public int CloseListenersPerServer { get; init; } = 2;

    /// <summary>Listeners that accept and keep: both sides stay ESTABLISHED.</summary>
    public int KeepListenersPerServer { get; init; } = 2;

    public int FilesPerClient { get; init; } = 1000;
    public int PipesPerClient { get; init; } = 200;
    public int EventfdsPerClient { get; init; } = 150;
    public int CloseWaitPerClient { get; init; } = 240;
    public int EstablishedPerClient { get; init; } = 160;

    /// <summary>Sockets each churn closes and reconnects under the same fd numbers, per state.</summary>
    public int ChurnPerState { get; init; } = 2;

    /// <summary>Holders woken with a no-op each round besides the churned one (they run, change nothing).</summary>
    public int PingedPerRound { get; init; } = 3;

    /// <summary>stdin, stdout and stderr: pipes to the runner.</summary>
    private const int StdioFds = 3;

    /// <summary>Slack above the fds a holder needs, for its RLIMIT_NOFILE soft limit.</summary>
    private const int NofileSlack = 64;

    public int ClientFds => StdioFds + FilesPerClient + 2 * PipesPerClient + EventfdsPerClient + CloseWaitPerClient + EstablishedPerClient;

    public int AcceptedPerServer => Clients * (CloseWaitPerClient + EstablishedPerClient) / Servers;

    public int ClientNofile => ClientFds + NofileSlack;

    /// <summary>Accepted connections, listeners, epoll and stdio, and room for accepts during churn.</summary>
    public int ServerNofile => AcceptedPerServer + CloseListenersPerServer + KeepListenersPerServer + 1 + StdioFds + 4 * NofileSlack;

    public int HolderFds => Clients * ClientFds + Servers * (AcceptedPerServer + CloseListenersPerServer + KeepListenersPerServer + 1 + StdioFds);

    public int TcpSocketsWithFd => Clients * 2 * (CloseWaitPerClient + EstablishedPerClient) + Servers * (CloseListenersPerServer + KeepListenersPerServer);

    /// <summary>Splits <paramref name="total"/> over <paramref name="ports"/> as evenly as whole numbers allow.</summary>
    public static IEnumerable<(int Port, int Count)> Spread(int total, IReadOnlyList<int> ports)
    {
        for (int i = 0; i < ports.Count; i++)
        {
            int count = total / ports.Count + (i < total % ports.Count ? 1 : 0);
            if (count > 0)
            {
                yield return (ports[i], count);
            }
        }
    }
}
