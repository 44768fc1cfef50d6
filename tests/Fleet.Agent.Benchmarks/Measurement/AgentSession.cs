using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Fleet.Agent.Benchmarks.Measurement;

/// <summary>
/// One long-lived "fleet-agent measure" process: each collect is a full host collection by the same
/// collector, so the first is a cold one and the later ones show what change detection saves.
/// </summary>
internal sealed class AgentSession : IAsyncDisposable
{
    private static readonly TimeSpan CollectTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan QuitTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly StringBuilder _errors = new();

    private AgentSession(Process process, bool full)
    {
        _process = process;
        Full = full;
    }

    /// <summary>Started with --full: every collection reads every fd again.</summary>
    public bool Full { get; }

    public int Pid => _process.Id;

    public static AgentSession Start(string agentPath, bool full)
    {
        var start = new ProcessStartInfo(agentPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("measure");
        if (full)
        {
            start.ArgumentList.Add("--full");
        }
        var process = Process.Start(start) ?? throw new SetupException($"{agentPath} did not start");
        var session = new AgentSession(process, full);
        process.ErrorDataReceived += (_, e) => session.KeepError(e.Data);
        process.BeginErrorReadLine();
        return session;
    }

    /// <summary>One full host collection; with <paramref name="pid"/>, that process's figures as well.</summary>
    public async Task<AgentCollection> CollectAsync(int? pid = null)
    {
        string command = pid is { } p ? $"collect {p.ToString(CultureInfo.InvariantCulture)}" : "collect";
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        using var deadline = new CancellationTokenSource(CollectTimeout);
        string? line;
        try
        {
            line = await _process.StandardOutput.ReadLineAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new SetupException($"the agent (pid {Pid}) did not answer '{command}' within {CollectTimeout.TotalSeconds:0} s");
        }
        if (line is null)
        {
            await _process.WaitForExitAsync(CancellationToken.None);
            throw new SetupException($"the agent (pid {Pid}) exited with {_process.ExitCode} on '{command}': {Errors()}");
        }
        return AgentCollection.Parse(line);
    }

    /// <summary>Asks the agent to quit and waits until it is reaped, so that no exit lands inside a later measurement.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("quit");
                await _process.StandardInput.FlushAsync();
                _process.StandardInput.Close();
            }
        }
        catch (IOException)
        {
            // It is already gone.
        }
        using var deadline = new CancellationTokenSource(QuitTimeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            await _process.WaitForExitAsync(CancellationToken.None);
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
