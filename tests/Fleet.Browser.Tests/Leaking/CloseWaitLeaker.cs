using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Fleet.Browser.Tests.Leaking;

/// <summary>
/// A TCP listener this test owns on 127.0.0.1 that accepts each connection and closes it at once, and a separate
/// OS process (<see cref="LeakerProgram"/>) that connects to it every <c>every</c> and never closes: its sockets
/// pile up in CLOSE_WAIT toward <see cref="Port"/>. Bounded in count (<c>max</c>) and time; both are stopped on
/// dispose.
/// </summary>
internal sealed class CloseWaitLeaker : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly Process _process;
    private int _accepted;

    private CloseWaitLeaker(TcpListener listener, Process process)
    {
        _listener = listener;
        _process = process;
        _accepting = Task.Run(AcceptAndCloseAsync);
    }

    /// <summary>The listener's port: every leaked socket's remote end is 127.0.0.1:Port.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int ProcessId => _process.Id;

    /// <summary>How many connections the listener accepted (and closed).</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>
    /// Starts the listener and the leaking process, whose command line carries <paramref name="marker"/> (the
    /// grouping rule's pattern). It leaks at most <paramref name="max"/> sockets and lives at most <paramref name="lifetime"/>.
    /// </summary>
    public static CloseWaitLeaker Start(string marker, int max, TimeSpan every, TimeSpan lifetime)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog: 256);
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(typeof(LeakerProgram).Assembly.Location);
        info.ArgumentList.Add(LeakerProgram.Command);
        info.ArgumentList.Add(((IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(max.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(((int)every.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(((int)lifetime.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        info.ArgumentList.Add(marker);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        }
        catch
        {
            listener.Stop();
            throw;
        }
        // Read (and drop) its output so a full pipe never blocks it.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new CloseWaitLeaker(listener, process);
    }

    private async Task AcceptAndCloseAsync()
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            // Closed at once: the FIN puts the leaker's end into CLOSE_WAIT.
            accepted.Dispose();
            Interlocked.Increment(ref _accepted);
        }
    }

    /// <summary>
    /// The leaker's sockets in CLOSE_WAIT toward <see cref="Port"/>, counted from the kernel's own table
    /// (/proc/net/tcp, state 08) and the leaker's fd table, not through Fleet's collector.
    /// </summary>
    public int CountInKernel()
    {
        var inodes = SocketInodes(_process.Id);
        int count = 0;
        foreach (string line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 10 || f[3] != "08")
            {
                continue;
            }
            int colon = f[2].IndexOf(':', StringComparison.Ordinal);
            int remotePort = int.Parse(f[2].AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (remotePort == Port && inodes.Contains(ulong.Parse(f[9], CultureInfo.InvariantCulture)))
            {
                count++;
            }
        }
        return count;
    }

    public bool HasExited => _process.HasExited;

    private static HashSet<ulong> SocketInodes(int pid)
    {
        var inodes = new HashSet<ulong>();
        string dir = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd";
        IEnumerable<string> fds;
        try
        {
            fds = Directory.EnumerateFiles(dir).ToList();
        }
        catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return inodes;
        }
        foreach (string fd in fds)
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue;
            }
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) && target.EndsWith(']'))
            {
                inodes.Add(ulong.Parse(target.AsSpan(8, target.Length - 9), CultureInfo.InvariantCulture));
            }
        }
        return inodes;
    }

    /// <summary>The dotnet host running these tests (DOTNET_HOST_PATH under dotnet test), else dotnet on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            await _process.WaitForExitAsync().WaitAsync(StopTimeout);
        }
        finally
        {
            _process.Dispose();
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting.WaitAsync(StopTimeout);
            _stop.Dispose();
        }
    }
}
