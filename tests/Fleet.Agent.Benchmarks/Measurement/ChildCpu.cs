using System.Diagnostics;
using Fleet.Agent.Benchmarks.Native;

namespace Fleet.Agent.Benchmarks.Measurement;

/// <summary>One run of a measured command: its CPU time (user + system), wall time and what it said on stderr.</summary>
internal sealed record ChildRun(TimeSpan Cpu, TimeSpan Wall, int ExitCode, string Diagnostics);

/// <summary>
/// Measures the CPU time a command takes, from getrusage(RUSAGE_CHILDREN) before and after the runner
/// waits for it. The command runs under "sh -c 'exec ... &gt;/dev/null'": the shell replaces itself with
/// the command, so the figure is the command's own plus one shell start-up (measured on its own as
/// /bin/true). Only one child may finish at a time while measuring: any other child reaped in between would
/// be counted too.
/// </summary>
internal static class ChildCpu
{
    public static async Task<ChildRun> MeasureAsync(string executable, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\" >/dev/null");
        start.ArgumentList.Add(executable);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var before = LibC.ChildrenCpuTime();
        var wall = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new SetupException($"{executable} did not start");
        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(timeout);
        string diagnostics;
        try
        {
            diagnostics = await process.StandardError.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync(CancellationToken.None);
            throw new SetupException($"{executable} did not finish within {timeout.TotalSeconds:0} s");
        }
        wall.Stop();
        var cpu = LibC.ChildrenCpuTime() - before;
        return new ChildRun(cpu, wall.Elapsed, process.ExitCode, diagnostics.Trim());
    }
}
