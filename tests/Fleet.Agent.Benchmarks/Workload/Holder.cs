using System.Diagnostics;
using System.Globalization;
using System.Text;
using Fleet.Agent.Benchmarks.Procfs;

namespace Fleet.Agent.Benchmarks.Workload;

/// <summary>
/// One running holder (the compiled holder.c): the runner writes commands to its stdin and reads one
/// line back per command. Killed on dispose; it also exits by itself when its stdin closes.
/// </summary>
internal sealed class Holder : IDisposable
{
    /// <summary>How long a command may take; a churn waits for a few loopback handshakes.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _errors = new();
    private int _disposed;

    private Holder(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public static Holder Start(string name, string executable, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new SetupException($"{name} did not start");
        var holder = new Holder(name, process);
        process.ErrorDataReceived += (_, e) => holder.KeepError(e.Data);
        process.BeginErrorReadLine();
        return holder;
    }

    /// <summary>The holder's next line; an "error ..." line, end of output or the deadline is a failure.</summary>
    public async Task<string> ReadLineAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        string? line;
        try
        {
            line = await _process.StandardOutput.ReadLineAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new SetupException($"{Name} (pid {Pid}) did not answer within {timeout.TotalSeconds:0} s");
        }
        if (line is null || line.StartsWith("error", StringComparison.Ordinal))
        {
            throw new SetupException($"{Name} (pid {Pid}) failed: {line ?? "exited"} {Errors()}".TrimEnd());
        }
        return line;
    }

    private async Task<string> AskAsync(string command, TimeSpan timeout)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        return await ReadLineAsync(timeout);
    }

    /// <summary>A client's account of what it holds.</summary>
    public async Task<ProcessFigures> ReportAsync() => HolderReport.Parse(await AskAsync("report", CommandTimeout));

    /// <summary>
    /// Has a client close <paramref name="perState"/> CLOSE_WAIT and as many ESTABLISHED sockets and connect
    /// new ones under the same fd numbers; returns its account afterwards.
    /// </summary>
    public async Task<ProcessFigures> ChurnAsync(int perState) =>
        HolderReport.Parse(await AskAsync($"churn {perState.ToString(CultureInfo.InvariantCulture)}", CommandTimeout));

    /// <summary>Wakes the holder so that it runs, without changing any of its fds.</summary>
    public async Task PingAsync()
    {
        string answer = await AskAsync("ping", CommandTimeout);
        if (answer != "ok")
        {
            throw new SetupException($"{Name} answered '{answer}' to ping");
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped: nothing to tear down.
        }
        _process.Dispose();
    }

    private void KeepError(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_errors)
        {
            _errors.AppendLine(line);
        }
    }

    private string Errors()
    {
        lock (_errors)
        {
            return _errors.ToString().Trim();
        }
    }
}
