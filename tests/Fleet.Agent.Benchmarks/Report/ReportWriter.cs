using System.Globalization;
using System.Runtime.InteropServices;
using Fleet.Agent.Benchmarks.Measurement;
using Fleet.Agent.Benchmarks.Workload;

namespace Fleet.Agent.Benchmarks.Report;

/// <summary>
/// Prints the workload, every measurement (median, min, n) and the ratios against baselines measured in
/// the same run, with the targets they are held to. Absolute times are shown, never judged.
/// </summary>
internal static class ReportWriter
{
    public const double FirstCollectionTarget = 0.60;
    public const double RepeatedCollectionTarget = 0.25;
    public const double ResidentTargetMegabytes = 16;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Write(TextWriter output, WorkloadSummary workload, BenchmarkResults results, int rounds)
    {
        output.WriteLine();
        output.WriteLine($"Fleet agent collection benchmark: {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores, {rounds} rounds");
        WriteWorkload(output, workload);
        WriteMeasurements(output, results);
        WriteRatios(output, results);
        WriteExactness(output, results.Exactness);
    }

    private static void WriteWorkload(TextWriter output, WorkloadSummary w)
    {
        output.WriteLine();
        output.WriteLine("Workload (read back from /proc)");
        Row(output, "holder processes", $"{w.HolderProcesses} (servers and clients started by this run)");
        Row(output, "holder fds", $"{Count(w.HolderFds)}  ({Breakdown(w.HolderFdsByKind)})");
        Row(output, "holder TCP sockets", $"{Count(w.HolderTcpSockets)}  ({Breakdown(w.HolderTcpByState)})");
        Row(output, "remote endpoints", $"CLOSE_WAIT to {Endpoints(w.CloseWaitPorts)}; ESTABLISHED to {Endpoints(w.EstablishedPorts)}");
        Row(output, "loopback settings", w.Settings.ToString());
        Row(output, "whole host", $"{w.Host.Processes} entries in /proc (kernel threads included), {Count(w.Host.OpenFds)} fds");
        Row(output, "whole host TCP", $"{Count(w.Host.TcpTotal)} sockets, {Count(w.Host.TcpWithFd)} held by an fd  ({Breakdown(w.Host.TcpByState)})");
    }

    private static void WriteMeasurements(TextWriter output, BenchmarkResults r)
    {
        output.WriteLine();
        output.WriteLine("Measurements: CPU time (user + system) in ms; wall time for information only");
        output.WriteLine($"  {"",-50}{"median",9}{"min",9}{"n",4}{"wall median",14}");
        Line(output, "process start-up (sh, exec /bin/true)", r.StartUp);
        Line(output, "ss -tanp", r.Ss);
        Line(output, "C loop: list /proc/*/fd", r.ListLoop);
        Line(output, "C loop: list + readlink /proc/*/fd", r.ReadlinkLoop);
        Line(output, "agent: first, full collection", r.FirstCollection);
        Line(output, "agent: repeated, few fds changed (1 holder)", r.RepeatedChangedOnly);
        Line(output, $"agent: repeated, same + {r.WokenPerRound} other holders ran", r.Repeated);
        Line(output, $"agent --full: repeated, 1 changed + {r.WokenPerRound} woken", r.RepeatedFull);
        output.WriteLine();
        string[] loop = r.LoopSaw.Split(' ');
        if (loop.Length == 3)
        {
            Row(output, "C loop saw", $"{loop[0]} fd folders, {Count(long.Parse(loop[1], Invariant))} fds, {Count(long.Parse(loop[2], Invariant))} links read");
        }
        Row(output, "agent fds read", $"{Count((long)r.FdsReadFirst.Median)} first collection, {Count((long)r.FdsReadRepeated.Median)} repeated " +
            $"(1 changed + {r.WokenPerRound} woken), {Count((long)r.FdsReadChangedOnly.Median)} repeated (1 changed alone), medians");
        Row(output, "agent rescanned", $"{r.Rescanned.Median:0} of {r.ProcessesSeen.Median:0} processes (1 changed + {r.WokenPerRound} woken), " +
            $"{r.RescannedChangedOnly.Median:0} (1 changed alone), medians");
        Row(output, "agent resident memory", $"{Megabytes(r.IncrementalAgentResidentBytes)} with change detection, {Megabytes(r.FullAgentResidentBytes)} --full, " +
            $"{Megabytes(r.FreshAgentsMaxResidentBytes)} largest fresh agent (after their last collection)");
    }

    private static void WriteRatios(TextWriter output, BenchmarkResults r)
    {
        double ss = r.Ss.Cpu.Median;
        output.WriteLine();
        output.WriteLine("Ratios of CPU medians against ss -tanp in this run");
        Ratio(output, "first full collection / ss -tanp", r.FirstCollection.Cpu.Median / ss, FirstCollectionTarget);
        Ratio(output, "repeated, few fds changed / ss -tanp", r.RepeatedChangedOnly.Cpu.Median / ss, RepeatedCollectionTarget);
        Ratio(output, $"repeated, + {r.WokenPerRound} holders ran / ss -tanp", r.Repeated.Cpu.Median / ss, null);
        Ratio(output, "repeated --full collection / ss -tanp", r.RepeatedFull.Cpu.Median / ss, null);
        Ratio(output, "C list-only loop / ss -tanp", r.ListLoop.Cpu.Median / ss, null);
        Ratio(output, "C readlink loop / ss -tanp", r.ReadlinkLoop.Cpu.Median / ss, null);
        output.WriteLine($"  (a process that ran since the previous collection is read again in full: no procfs interface says");
        output.WriteLine($"   which of its fds changed, and the figures must stay exact; the {r.WokenPerRound} holders that ran hold");
        output.WriteLine($"   {Count((long)(r.FdsReadRepeated.Median - r.FdsReadChangedOnly.Median))} fds more than the changed one's collection read)");
        double megabytes = r.LargestResidentBytes / 1024.0 / 1024.0;
        output.WriteLine($"  {"agent resident memory (largest)",-42}{megabytes.ToString("0.0", Invariant) + " MB",9}   " +
            $"{"target < " + ResidentTargetMegabytes.ToString("0", Invariant) + " MB",-16}{Verdict(megabytes < ResidentTargetMegabytes)}");
    }

    private static void WriteExactness(TextWriter output, ExactnessCheck exactness)
    {
        output.WriteLine();
        string verdict = exactness.Passed ? "exact" : "NOT EXACT";
        output.WriteLine($"Exactness: {verdict}: {exactness.Exact} of {exactness.Compared} agent answers for the changed holder matched /proc and the holder's own account");
        foreach (string failure in exactness.Failures)
        {
            output.WriteLine($"  MISMATCH {failure}");
        }
    }

    private static void Line(TextWriter output, string name, Timing timing) =>
        output.WriteLine($"  {name,-50}{Ms(timing.Cpu.Median),9}{Ms(timing.Cpu.Min),9}{timing.Cpu.Count,4}{Ms(timing.Wall.Median),14}");

    private static void Ratio(TextWriter output, string name, double ratio, double? target)
    {
        string text = ratio.ToString("0.00", Invariant);
        if (target is not { } t)
        {
            output.WriteLine($"  {name,-42}{text,9}   (reference, no target)");
            return;
        }
        output.WriteLine($"  {name,-42}{text,9}   {"target ≤ " + t.ToString("0.00", Invariant),-16}{Verdict(ratio <= t)}");
    }

    private static string Verdict(bool met) => met ? "meets target" : "MISSES target";

    private static void Row(TextWriter output, string name, string value) => output.WriteLine($"  {name,-24}{value}");

    private static string Ms(double milliseconds) => milliseconds.ToString("0.0", Invariant);

    private static string Count(long n) => n.ToString("N0", Invariant);

    private static string Megabytes(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0.0", Invariant) + " MB";

    private static string Endpoints(IEnumerable<int> ports) => string.Join(", ", ports.Select(p => $"127.0.0.1:{p}"));

    private static string Breakdown(IReadOnlyDictionary<string, long> counts) =>
        string.Join(" · ", counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {Count(c.Value)}"));
}
