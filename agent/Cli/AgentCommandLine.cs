using System.Reflection;
using Fleet.Agent.Collection;
using Fleet.Agent.Grouping;
using Fleet.Agent.Snapshots;
using Fleet.Contracts.V1;
using Google.Protobuf;

namespace Fleet.Agent.Cli;

/// <summary>fleet-agent's commands: snapshot (report or JSON) and measure (the benchmark driver).</summary>
internal static class AgentCommandLine
{
    public static string Version =>
        typeof(AgentCommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public const string Usage = """
        fleet-agent: file descriptors, sockets and limits of every process on this host.

        usage:
          fleet-agent snapshot [--json] [--top N] [--procfs PATH] [--rules FILE] [--full]
              One collection, as a readable report (services and top processes by fd use against their
              limits, CLOSE_WAIT by remote endpoint, the host's headroom), or with --json in the
              contract's JSON form (fleet.v1.Snapshot).
          fleet-agent measure [--procfs PATH] [--full]
              Benchmark driver: reads 'collect [PID]' or 'quit' lines on stdin, answers each collect with
              one JSON line of the collection's cost (and that process's figures).
          fleet-agent --version

        options:
          --procfs PATH      procfs root to read (default /proc; /host/proc in a container)
          --machine-id PATH  file holding the machine id (default /etc/machine-id)
          --rules FILE       service grouping rules: fleet.v1.AgentConfig in JSON, e.g.
                             {"groupingRules":[{"field":"FIELD_CMDLINE","pattern":"-jar (\\S+)\\.jar","serviceTemplate":"$1"}]}
          --top N            processes and endpoints listed in the report (default 15)
          --full             read every process in full each collection (no change detection)

        Run as root, or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, to see other users' processes;
        processes the agent may not read are reported as unreadable, never as zero.
        """;

    public static int Run(string[] args) => Run(args, Console.In, Console.Out, Console.Error);

    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        try
        {
            var options = AgentOptions.Parse(args);
            switch (options.Command)
            {
                case "snapshot":
                    return Snapshot(options, output);
                case "measure":
                    return MeasureDriver.Run(options, input, output);
                case "version":
                    output.WriteLine($"fleet-agent {Version}");
                    return 0;
                default:
                    output.WriteLine(Usage);
                    return 0;
            }
        }
        catch (UsageException e)
        {
            error.WriteLine($"fleet-agent: {e.Message}");
            error.WriteLine("run 'fleet-agent help' for usage");
            return 2;
        }
        catch (Exception e) when (e is CollectorException or GroupingRuleException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"fleet-agent: {e.Message}");
            return 1;
        }
    }

    private static int Snapshot(AgentOptions options, TextWriter output)
    {
        var collector = new HostCollector(options.Collector);
        var grouper = new ServiceGrouper(LoadRules(options.RulesFile));
        var collection = collector.Collect();
        grouper.Assign(collection.Processes);
        var snapshot = SnapshotBuilder.Build(collection, sequence: 1, Version);
        if (options.Json)
        {
            var formatter = new JsonFormatter(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation());
            output.WriteLine(formatter.Format(snapshot));
        }
        else
        {
            ReportWriter.Write(snapshot, output, options.Top);
        }
        return 0;
    }

    public static IEnumerable<GroupingRule> LoadRules(string? path)
    {
        if (path is null)
        {
            return [];
        }
        string json = File.ReadAllText(path);
        try
        {
            return JsonParser.Default.Parse<AgentConfig>(json).GroupingRules;
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException)
        {
            throw new UsageException($"{path}: not a fleet.v1.AgentConfig in JSON: {e.Message}");
        }
    }
}

internal sealed class UsageException(string message) : Exception(message);

internal sealed class AgentOptions
{
    public string Command { get; private set; } = "help";
    public bool Json { get; private set; }
    public int Top { get; private set; } = 15;
    public string? RulesFile { get; private set; }
    public CollectorOptions Collector { get; private set; } = new();

    public static AgentOptions Parse(string[] args)
    {
        var o = new AgentOptions();
        string procfs = "/proc";
        string machineId = "/etc/machine-id";
        bool full = false;
        int i = 0;
        if (args.Length > 0)
        {
            o.Command = args[0] switch
            {
                "snapshot" or "measure" => args[0],
                "--version" or "version" => "version",
                "help" or "--help" or "-h" => "help",
                _ => throw new UsageException($"unknown command '{args[0]}'"),
            };
            i = 1;
        }
        for (; i < args.Length; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "--json":
                    o.Json = true;
                    break;
                case "--full":
                    full = true;
                    break;
                case "--procfs":
                    procfs = Value(args, ref i);
                    break;
                case "--machine-id":
                    machineId = Value(args, ref i);
                    break;
                case "--rules":
                    o.RulesFile = Value(args, ref i);
                    break;
                case "--top":
                    string top = Value(args, ref i);
                    if (!int.TryParse(top, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < 1 || n > 10_000)
                    {
                        throw new UsageException($"--top takes a whole number from 1 to 10000, not '{top}'");
                    }
                    o.Top = n;
                    break;
                default:
                    throw new UsageException($"unknown option '{a}'");
            }
        }
        o.Collector = new CollectorOptions { ProcRoot = procfs.TrimEnd('/'), MachineIdPath = machineId, Incremental = !full };
        return o;
    }

    private static string Value(string[] args, ref int i)
    {
        if (i + 1 >= args.Length)
        {
            throw new UsageException($"{args[i]} needs a value");
        }
        return args[++i];
    }
}
