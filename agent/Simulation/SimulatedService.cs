namespace Fleet.Agent.Simulation;

/// <summary>How a simulated service's file descriptors move over simulated time.</summary>
public enum SimulatedBehaviour
{
    /// <summary>Flat, with a little noise.</summary>
    Steady,

    /// <summary>Follows the load of the day: a sinusoid over 24 h of simulated time, low at night.</summary>
    DailyCycle,

    /// <summary>Leaks a few regular files an hour (until the soft limit).</summary>
    SlowLeak,

    /// <summary>Leaks hundreds of pipes an hour, sits at its soft limit (EMFILE) until it is restarted.</summary>
    FastLeak,

    /// <summary>Sockets toward one remote (10.0.3.7:443) pile up in CLOSE_WAIT: the peer closed, the service never does.</summary>
    CloseWaitBuildup,
}

/// <summary>One service of a simulated host, as the simulation planned it.</summary>
public sealed class SimulatedService
{
    internal SimulatedService(string name, string comm, SimulatedBehaviour behaviour, TimeSpan? restartEvery, ulong nofileSoft, ulong nofileHard, int processCount)
    {
        Name = name;
        Comm = comm;
        Behaviour = behaviour;
        RestartEvery = restartEvery;
        NofileSoft = nofileSoft;
        NofileHard = nofileHard;
        ProcessCount = processCount;
    }

    /// <summary>The service name as the agent's default grouping names it (systemd unit, container, pod's workload).</summary>
    public string Name { get; }

    /// <summary>The comm of its main process.</summary>
    public string Comm { get; }

    public SimulatedBehaviour Behaviour { get; }

    /// <summary>Simulated time between restarts (new pids and start times, fds back to their base); null when it never restarts.</summary>
    public TimeSpan? RestartEvery { get; }

    public ulong NofileSoft { get; }

    public ulong NofileHard { get; }

    public int ProcessCount { get; }

    public override string ToString() => $"{Name} ({Behaviour}, {ProcessCount} processes, soft limit {NofileSoft})";
}
