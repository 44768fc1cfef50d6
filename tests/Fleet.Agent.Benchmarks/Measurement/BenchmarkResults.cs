namespace Fleet.Agent.Benchmarks.Measurement;

/// <summary>CPU and wall time of repeated runs of one thing, in milliseconds.</summary>
internal sealed class Timing
{
    public Samples Cpu { get; } = new();

    public Samples Wall { get; } = new();

    public void Add(TimeSpan cpu, TimeSpan wall)
    {
        Cpu.Add(cpu);
        Wall.Add(wall);
    }
}

/// <summary>Everything measured in one run, for the report.</summary>
internal sealed class BenchmarkResults
{
    /// <summary>"sh -c 'exec /bin/true'": what starting any measured command costs by itself.</summary>
    public Timing StartUp { get; } = new();

    public Timing Ss { get; } = new();

    public Timing ListLoop { get; } = new();

    public Timing ReadlinkLoop { get; } = new();

    /// <summary>The first collection of a freshly started agent: everything read in full.</summary>
    public Timing FirstCollection { get; } = new();

    /// <summary>A later collection with change detection, after one holder changed a few sockets and a few others were woken.</summary>
    public Timing Repeated { get; } = new();

    /// <summary>A later collection with change detection, after one holder changed a few sockets and nothing else was woken.</summary>
    public Timing RepeatedChangedOnly { get; } = new();

    /// <summary>The same, by an agent started with --full.</summary>
    public Timing RepeatedFull { get; } = new();

    /// <summary>Holders woken without changes besides the changed one, in the repeated collections.</summary>
    public int WokenPerRound { get; set; }

    public Samples Rescanned { get; } = new();

    public Samples RescannedChangedOnly { get; } = new();

    public Samples ProcessesSeen { get; } = new();

    public Samples FdsReadRepeated { get; } = new();

    public Samples FdsReadFirst { get; } = new();

    public Samples FdsReadChangedOnly { get; } = new();

    /// <summary>What the C loop saw: "processes fds links".</summary>
    public string LoopSaw { get; set; } = "";

    public long IncrementalAgentResidentBytes { get; set; }

    public long FullAgentResidentBytes { get; set; }

    public long FreshAgentsMaxResidentBytes { get; set; }

    public long LargestResidentBytes => Math.Max(IncrementalAgentResidentBytes, Math.Max(FullAgentResidentBytes, FreshAgentsMaxResidentBytes));

    public ExactnessCheck Exactness { get; } = new();
}
