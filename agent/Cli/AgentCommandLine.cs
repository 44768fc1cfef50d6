using System.Globalization;
using System.Runtime.InteropServices;
using Fleet.Agent.Collection;
using Fleet.Agent.Grouping;
using Fleet.Agent.Simulation;
using Fleet.Agent.Snapshots;
using Fleet.Agent.Streaming;
using Fleet.Contracts.V1;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Fleet.Agent.Cli;

/// <summary>
/// fleet-agent's commands: run (collect and stream to the server), simulate (a fleet of made-up hosts),
/// snapshot (report or JSON) and measure (the benchmark driver).
/// </summary>
internal static class AgentCommandLine
{
    public static string Version => AgentVersion.Current;

    public const string Usage = """
        fleet-agent: file descriptors, sockets and limits of every process on this host.

        usage:
          fleet-agent run --server URL (--token TOKEN | --token-file PATH) --state-dir DIR
                          [--interval 10s] [--procfs PATH] [--rules FILE]
                          [--server-fingerprint SHA256 | --ca-file PATH] [--allow-plaintext]
              Collects every interval and streams each snapshot to the Fleet server over one long-lived
              gRPC stream. Snapshots are spooled in DIR first (bounded: 8640 snapshots / 256 MiB, oldest
              dropped first), so collection goes on while the server is unreachable and nothing is lost
              across restarts; the server acknowledges each one once it is stored. Reconnects with capped
              backoff (0.5 s doubling to 30 s), also after the server refused the token. SIGTERM or Ctrl-C
              stops it cleanly; the spool stays in DIR for the next start.
          fleet-agent simulate --hosts N --server URL --token TOKEN [--interval 10s] [--state-dir DIR]
                               [--seed S] [--speed X] [--server-fingerprint SHA256 | --ca-file PATH]
                               [--allow-plaintext]
              Streams N made-up hosts (sim-host-001 ...) through the same spool and stream code, each with
              its own state folder below DIR (default: fleet-simulate-SEED in the temp folder): plausible
              services with steady, daily-cycle, leaking, CLOSE_WAIT and restarting behaviours, and sysctls
              that differ between hosts; the same seed gives the same fleet. --speed X runs simulated time
              X times faster than real time: snapshots still come every interval of real time and carry
              the real time, but leaks, daily cycles and restarts progress X times faster.
          fleet-agent snapshot [--json] [--top N] [--procfs PATH] [--rules FILE] [--full]
              One collection, as a readable report (services and top processes by fd use against their
              limits, CLOSE_WAIT by remote endpoint, the host's headroom), or with --json in the
              contract's JSON form (fleet.v1.Snapshot).
          fleet-agent measure [--procfs PATH] [--full]
              Benchmark driver: reads 'collect [PID]' or 'quit' lines on stdin, answers each collect with
              one JSON line of the collection's cost (and that process's figures).
          fleet-agent --version

        options:
          --server URL       the Fleet server's gRPC endpoint, https://HOST:PORT. Plaintext http:// only
                             with --allow-plaintext, or when the server is on loopback (127.0.0.1, ::1,
                             localhost): the token would otherwise cross the network in clear
          --token TOKEN      the enrollment token (visible in ps: prefer --token-file or FLEET_TOKEN)
          --token-file PATH  a file holding the enrollment token; else the FLEET_TOKEN environment variable
          --state-dir DIR    the agent's state: its id, the next sequence number and the spool
          --interval D       time between snapshots: 10s (default), 1500ms, 1m, 1h; from 1s to 1h. The
                             server may configure another
          --server-fingerprint SHA256
                             trust exactly the server certificate with this SHA-256 fingerprint (64 hex
                             digits, colons allowed, any case; the server logs it at start), also when it
                             is self-signed; any other certificate is refused before the token is sent.
                             Else the FLEET_SERVER_FINGERPRINT environment variable
          --ca-file PATH     a PEM bundle of CA certificates to trust for the server's certificate (or
                             the server's own self-signed certificate, fleet-server.pem)
          --allow-plaintext  allow http:// to a server that is not on loopback
          --hosts N          simulate: how many hosts (1 to 10000)
          --seed S           simulate: the fleet's seed (default 1)
          --speed X          simulate: simulated time per real time (default 1)
          --verbose          log every snapshot (debug level)
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

    /// <param name="stop">Stops run and simulate; without one, SIGTERM and SIGINT (Ctrl-C) do.</param>
    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error, CancellationToken? stop = null, Func<string, string?>? environment = null)
    {
        try
        {
            var options = AgentOptions.Parse(args, environment ?? Environment.GetEnvironmentVariable);
            switch (options.Command)
            {
                case "run":
                case "simulate":
                    return RunUntilStopped(options, error, stop);
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
        catch (Exception e) when (e is CollectorException or GroupingRuleException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            error.WriteLine($"fleet-agent: {e.Message}");
            return 1;
        }
    }

    private static int RunUntilStopped(AgentOptions options, TextWriter error, CancellationToken? stop)
    {
        using var stopping = new CancellationTokenSource();
        using var registration = stop?.Register(stopping.Cancel);
        PosixSignalRegistration? term = null;
        PosixSignalRegistration? interrupt = null;
        if (stop is null)
        {
            // A clean stop on SIGTERM (systemd, docker stop) and Ctrl-C: the spool stays on disk.
            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                stopping.Cancel();
            }
            term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        }
        try
        {
            var logger = new ConsoleLogger(error, options.Verbose ? LogLevel.Debug : LogLevel.Information);
            var task = options.Command == "run"
                ? new AgentRunner(options.ToRunnerOptions(), logger).RunAsync(stopping.Token)
                : new FleetSimulator(options.ToSimulatorOptions(), logger).RunAsync(stopping.Token);
            task.GetAwaiter().GetResult();
            return 0;
        }
        finally
        {
            term?.Dispose();
            interrupt?.Dispose();
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
    public Uri? Server { get; private set; }
    public string? Token { get; private set; }
    public string? StateDirectory { get; private set; }
    public TimeSpan Interval { get; private set; } = TimeSpan.FromSeconds(10);
    public string? CaFile { get; private set; }
    public string? ServerFingerprint { get; private set; }
    public bool AllowPlaintext { get; private set; }
    public int Hosts { get; private set; }
    public int Seed { get; private set; } = 1;
    public double Speed { get; private set; } = 1;
    public bool Verbose { get; private set; }

    public static AgentOptions Parse(string[] args) => Parse(args, static _ => null);

    public static AgentOptions Parse(string[] args, Func<string, string?> environment)
    {
        var o = new AgentOptions();
        string? token = null;
        string? tokenFile = null;
        string? server = null;
        string procfs = "/proc";
        string machineId = "/etc/machine-id";
        bool full = false;
        int i = 0;
        if (args.Length > 0)
        {
            o.Command = args[0] switch
            {
                "run" or "simulate" or "snapshot" or "measure" => args[0],
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
                case "--server":
                    server = Value(args, ref i);
                    break;
                case "--token":
                    token = Value(args, ref i);
                    break;
                case "--token-file":
                    tokenFile = Value(args, ref i);
                    break;
                case "--state-dir":
                    o.StateDirectory = Value(args, ref i);
                    break;
                case "--interval":
                    string interval = Value(args, ref i);
                    if (!TryParseDuration(interval, out var d) || d < TimeSpan.FromSeconds(1) || d > TimeSpan.FromHours(1))
                    {
                        throw new UsageException($"--interval takes a duration from 1s to 1h such as 10s, 1m or 1500ms, not '{interval}'");
                    }
                    o.Interval = d;
                    break;
                case "--ca-file":
                    o.CaFile = Value(args, ref i);
                    break;
                case "--server-fingerprint":
                    o.ServerFingerprint = Value(args, ref i);
                    break;
                case "--allow-plaintext":
                    o.AllowPlaintext = true;
                    break;
                case "--hosts":
                    string hosts = Value(args, ref i);
                    if (!int.TryParse(hosts, NumberStyles.None, CultureInfo.InvariantCulture, out int h) || h < 1 || h > 10_000)
                    {
                        throw new UsageException($"--hosts takes a whole number from 1 to 10000, not '{hosts}'");
                    }
                    o.Hosts = h;
                    break;
                case "--seed":
                    string seed = Value(args, ref i);
                    if (!int.TryParse(seed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int s))
                    {
                        throw new UsageException($"--seed takes a whole number, not '{seed}'");
                    }
                    o.Seed = s;
                    break;
                case "--speed":
                    string speed = Value(args, ref i);
                    if (!double.TryParse(speed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double x) || !(x > 0) || x > 1_000_000)
                    {
                        throw new UsageException($"--speed takes a positive number up to 1000000, not '{speed}'");
                    }
                    o.Speed = x;
                    break;
                case "--verbose":
                    o.Verbose = true;
                    break;
                default:
                    throw new UsageException($"unknown option '{a}'");
            }
        }
        o.Collector = new CollectorOptions { ProcRoot = procfs.TrimEnd('/'), MachineIdPath = machineId, Incremental = !full };
        if (o.Command is "run" or "simulate")
        {
            o.CompleteStreaming(server, token, tokenFile, environment);
        }
        return o;
    }

    /// <summary>Checks and completes what run and simulate need, naming the option that is missing or wrong.</summary>
    private void CompleteStreaming(string? server, string? token, string? tokenFile, Func<string, string?> environment)
    {
        if (server is null)
        {
            throw new UsageException($"{Command} needs --server URL");
        }
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri))
        {
            throw new UsageException($"--server takes a URL such as https://fleet.example:7443, not '{server}'");
        }
        if (IngestChannel.Validate(uri, AllowPlaintext) is { } problem)
        {
            throw new UsageException($"--server: {problem}");
        }
        Server = uri;
        if (token is not null && tokenFile is not null)
        {
            throw new UsageException("give either --token or --token-file, not both");
        }
        if (tokenFile is not null)
        {
            try
            {
                token = File.ReadAllText(tokenFile).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--token-file: cannot read '{tokenFile}': {e.Message}");
            }
            if (token.Length == 0)
            {
                throw new UsageException($"--token-file: '{tokenFile}' is empty");
            }
        }
        token ??= environment("FLEET_TOKEN")?.Trim();
        if (string.IsNullOrEmpty(token))
        {
            throw new UsageException($"{Command} needs the enrollment token: --token, --token-file or FLEET_TOKEN");
        }
        Token = token;
        if (CaFile is not null && !File.Exists(CaFile))
        {
            throw new UsageException($"--ca-file: '{CaFile}' does not exist");
        }
        string fingerprintOption = "--server-fingerprint";
        if (ServerFingerprint is null && environment("FLEET_SERVER_FINGERPRINT") is { Length: > 0 } pinned)
        {
            ServerFingerprint = pinned;
            fingerprintOption = "FLEET_SERVER_FINGERPRINT";
        }
        if (IngestChannel.ValidateTrust(Server, CaFile, ServerFingerprint, handlerReplaced: false, fingerprintOption, "--ca-file") is { } trust)
        {
            throw new UsageException(trust);
        }
        if (Command == "run")
        {
            if (StateDirectory is null)
            {
                throw new UsageException("run needs --state-dir DIR (where the agent keeps its id and spool)");
            }
            if (!Directory.Exists(Collector.ProcRoot))
            {
                throw new UsageException($"--procfs: '{Collector.ProcRoot}' does not exist");
            }
        }
        else
        {
            if (Hosts == 0)
            {
                throw new UsageException("simulate needs --hosts N");
            }
            StateDirectory ??= Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"fleet-simulate-{Seed}"));
        }
    }

    public AgentRunnerOptions ToRunnerOptions() => new()
    {
        ServerAddress = Server!,
        EnrollmentToken = Token!,
        StateDirectory = StateDirectory!,
        Interval = Interval,
        ProcRoot = Collector.ProcRoot,
        MachineIdPath = Collector.MachineIdPath,
        AllowPlaintext = AllowPlaintext,
        CaFile = CaFile,
        ServerFingerprint = ServerFingerprint,
        GroupingRules = AgentCommandLine.LoadRules(RulesFile).ToList(),
    };

    public FleetSimulatorOptions ToSimulatorOptions() => new()
    {
        Hosts = Hosts,
        ServerAddress = Server!,
        EnrollmentToken = Token!,
        StateDirectory = StateDirectory!,
        Interval = Interval,
        Seed = Seed,
        Speed = Speed,
        AllowPlaintext = AllowPlaintext,
        CaFile = CaFile,
        ServerFingerprint = ServerFingerprint,
    };

    /// <summary>Durations as 1500ms, 10s, 5m, 1h, or a plain number of seconds.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        (string number, double unit) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value * unit > 1e9)
        {
            return false;
        }
        duration = TimeSpan.FromSeconds(value * unit);
        return true;
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
