using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleet.Server.LocalDatabase;

public sealed class LocalPostgresOptions
{
    /// <summary>The cluster's data folder; made (with initdb) on first start.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>TCP port on 127.0.0.1; 0 picks a free one at each start.</summary>
    public int Port { get; init; }

    /// <summary>Folder of initdb/pg_ctl/postgres; null finds the newest /usr/lib/postgresql/*/bin.</summary>
    public string? BinDirectory { get; init; }

    /// <summary>Server settings passed with -c (for tests: fsync=off and friends).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A private PostgreSQL cluster run from the installed PostgreSQL binaries: the server's one-command
/// mode uses it when no connection string is configured, and tests use it for a real database.
/// PostgreSQL refuses to run as root, so as root the cluster belongs to and runs as the postgres user.
/// </summary>
public sealed partial class LocalPostgres : IAsyncDisposable
{
    private const string SystemUser = "postgres";
    private readonly LocalPostgresOptions _options;
    private readonly ILogger _logger;
    private readonly string _bin;

    public LocalPostgres(LocalPostgresOptions options, ILogger? logger = null)
        : this(options, logger, DefaultBinRoot)
    {
    }

    internal LocalPostgres(LocalPostgresOptions options, ILogger? logger, string binRoot)
    {
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _bin = options.BinDirectory ?? FindBinDirectory(binRoot)
            ?? throw new LocalPostgresException(
                $"PostgreSQL server binaries were not found under {binRoot}/*/bin. Install them "
                + "(Debian/Ubuntu: apt-get install postgresql) or configure ConnectionStrings:Fleet to use another database.");
    }

    public int Port { get; private set; }

    public string DataDirectory => _options.DataDirectory;

    /// <summary>Superuser connection to the cluster's "postgres" database (trust authentication on 127.0.0.1 only).</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database={database};Pooling=true";

    public bool IsRunning => File.Exists(Path.Combine(DataDirectory, "postmaster.pid"));

    private const string DefaultBinRoot = "/usr/lib/postgresql";

    public static string? FindBinDirectory(string root = DefaultBinRoot)
    {
        if (!Directory.Exists(root))
        {
            return null;
        }
        return Directory.GetDirectories(root)
            .Select(d => (Dir: d, Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : -1))
            .Where(x => x.Version > 0 && File.Exists(Path.Combine(x.Dir, "bin", "pg_ctl")))
            .OrderByDescending(x => x.Version)
            .Select(x => Path.Combine(x.Dir, "bin"))
            .FirstOrDefault();
    }

    /// <summary>Creates the cluster if needed and starts it; returns once it accepts connections.</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        PrepareDataDirectory();
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            LogCreating(_logger, DataDirectory);
            await RunAsync("initdb", ["-D", DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"], ct);
        }
        if (IsRunning)
        {
            // A stale pid file after a crash: pg_ctl status tells whether it really runs.
            if (await RunAsync("pg_ctl", ["-D", DataDirectory, "status"], ct, allowFailure: true) == 0)
            {
                await StopAsync(ct);
            }
        }
        Port = _options.Port != 0 ? _options.Port : FreePort();
        var settings = new List<string>
        {
            "-c listen_addresses=127.0.0.1",
            $"-p {Port.ToString(CultureInfo.InvariantCulture)}",
            $"-k {DataDirectory}",
        };
        settings.AddRange(_options.Settings.Select(kv => $"-c {kv.Key}={kv.Value}"));
        await RunAsync("pg_ctl", ["-D", DataDirectory, "-l", Path.Combine(DataDirectory, "server.log"), "-w", "-t", "60", "start", "-o", string.Join(' ', settings)], ct);
        LogStarted(_logger, Port, DataDirectory);
    }

    /// <summary>Stops the cluster ("fast": open sessions are ended, work in flight rolled back).</summary>
    public async Task StopAsync(CancellationToken ct = default)
    {
        if (Directory.Exists(DataDirectory) && IsRunning)
        {
            await RunAsync("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop"], ct, allowFailure: true);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private void PrepareDataDirectory()
    {
        Directory.CreateDirectory(DataDirectory);
        if (IsRoot())
        {
            // The postgres user must own the data folder and be able to reach it.
            if (GetPasswd(SystemUser) is not { } pw)
            {
                throw new LocalPostgresException($"running as root, but there is no '{SystemUser}' user to run PostgreSQL as (install the postgresql package)");
            }
            if (Chown(DataDirectory, pw.Uid, pw.Gid) != 0)
            {
                throw new LocalPostgresException($"cannot give {DataDirectory} to the {SystemUser} user (errno {Marshal.GetLastPInvokeError()})");
            }
            for (var dir = Directory.GetParent(DataDirectory); dir is not null; dir = dir.Parent)
            {
                var mode = File.GetUnixFileMode(dir.FullName);
                if ((mode & UnixFileMode.OtherExecute) == 0)
                {
                    throw new LocalPostgresException(
                        $"the {SystemUser} user cannot reach {DataDirectory}: {dir.FullName} is not searchable by others; choose a data folder elsewhere (Fleet:LocalDatabase:DataDirectory)");
                }
            }
        }
        File.SetUnixFileMode(DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private async Task<int> RunAsync(string tool, IReadOnlyList<string> args, CancellationToken ct, bool allowFailure = false)
    {
        string exe = Path.Combine(_bin, tool);
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        if (IsRoot())
        {
            psi.FileName = "/usr/sbin/runuser";
            foreach (string a in new[] { "-u", SystemUser, "--", exe })
            {
                psi.ArgumentList.Add(a);
            }
        }
        else
        {
            psi.FileName = exe;
        }
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi) ?? throw new LocalPostgresException($"could not start {exe}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        string output = (await stdout + await stderr).Trim();
        if (process.ExitCode != 0 && !allowFailure)
        {
            string log = Path.Combine(DataDirectory, "server.log");
            string tail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(15)) : "";
            throw new LocalPostgresException($"{tool} {string.Join(' ', args)} failed with exit code {process.ExitCode}: {output}\n{tail}".Trim());
        }
        return process.ExitCode;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsRoot() => GetEuid() == 0;

    private static (uint Uid, uint Gid)? GetPasswd(string name)
    {
        nint pw = GetPwNam(name);
        if (pw == 0)
        {
            return null;
        }
        // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ... }
        return ((uint)Marshal.ReadInt32(pw, 2 * IntPtr.Size), (uint)Marshal.ReadInt32(pw, 2 * IntPtr.Size + 4));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Creating a private PostgreSQL cluster in {DataDirectory}")]
    private static partial void LogCreating(ILogger logger, string dataDirectory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Private PostgreSQL listening on 127.0.0.1:{Port} (data in {DataDirectory})")]
    private static partial void LogStarted(ILogger logger, int port, string dataDirectory);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetPwNam(string name);

    [LibraryImport("libc", EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Chown(string path, uint owner, uint group);
}

public sealed class LocalPostgresException(string message) : Exception(message);
