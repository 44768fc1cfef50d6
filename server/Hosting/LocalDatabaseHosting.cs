using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Fleet.Server.LocalDatabase;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fleet.Server.Hosting;

/// <summary>
/// The one-command mode's database (configuration section <c>Fleet:LocalDatabase</c>): used only when
/// <c>ConnectionStrings:Fleet</c> is empty.
/// </summary>
public sealed class LocalDatabaseOptions
{
    public const string Section = "Fleet:LocalDatabase";

    /// <summary>The cluster's data folder; default /var/lib/fleet/postgres as root, else under $XDG_DATA_HOME (~/.local/share)/fleet.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Port on 127.0.0.1; 0 picks a free one at each start.</summary>
    public int Port { get; set; }

    /// <summary>Folder of the PostgreSQL server binaries; default the newest /usr/lib/postgresql/*/bin.</summary>
    public string? BinDirectory { get; set; }

    /// <summary>The database made in the cluster for Fleet.</summary>
    public string Database { get; set; } = "fleet";

    public string ResolvedDataDirectory => string.IsNullOrWhiteSpace(DataDirectory) ? Path.Combine(FleetPaths.DataRoot(), "postgres") : Path.GetFullPath(DataDirectory);
}

/// <summary>Where Fleet keeps what it makes on this machine.</summary>
public static class FleetPaths
{
    /// <summary>/var/lib/fleet as root; else $XDG_DATA_HOME/fleet, or ~/.local/share/fleet.</summary>
    public static string DataRoot()
    {
        if (Environment.IsPrivilegedProcess)
        {
            return "/var/lib/fleet";
        }
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "fleet");
        }
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "fleet");
    }
}

/// <summary>The private cluster of the one-command mode, and the database Fleet uses in it.</summary>
public sealed partial class LocalDatabaseRunner : IAsyncDisposable
{
    private readonly LocalDatabaseOptions _options;
    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggers;
    private LocalPostgres? _cluster;

    public LocalDatabaseRunner(LocalDatabaseOptions options, int port, ILoggerFactory loggers)
    {
        _options = options;
        Port = port;
        _loggers = loggers;
        _logger = loggers.CreateLogger<LocalDatabaseRunner>();
    }

    public int Port { get; }

    public string DataDirectory => _options.ResolvedDataDirectory;

    public string ConnectionString => ConnectionStringFor(Port, _options.Database);

    public static string ConnectionStringFor(int port, string database) =>
        $"Host=127.0.0.1;Port={port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database={database};Pooling=true";

    /// <summary>Starts (creating on first use) the cluster and makes Fleet's database in it.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (_cluster is not null)
        {
            return;
        }
        var cluster = new LocalPostgres(
            new LocalPostgresOptions { DataDirectory = DataDirectory, Port = Port, BinDirectory = _options.BinDirectory },
            _loggers.CreateLogger<LocalPostgres>());
        await cluster.StartAsync(ct).ConfigureAwait(false);
        _cluster = cluster;
        await using var connection = new NpgsqlConnection(cluster.ConnectionString());
        await connection.OpenAsync(ct).ConfigureAwait(false);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", _options.Database);
        if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is null)
        {
            // The name is validated to letters, digits and '_' (AddLocalDatabase).
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{_options.Database}\"", connection);
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            LogDatabaseCreated(_logger, _options.Database);
        }
    }

    public async Task StopAsync(CancellationToken ct)
    {
        if (_cluster is { } cluster)
        {
            _cluster = null;
            NpgsqlConnection.ClearAllPools();
            await cluster.StopAsync(ct).ConfigureAwait(false);
            LogStopped(_logger, DataDirectory);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the database {Database} in the private PostgreSQL cluster")]
    private static partial void LogDatabaseCreated(ILogger logger, string database);

    [LoggerMessage(Level = LogLevel.Information, Message = "Private PostgreSQL stopped (data kept in {DataDirectory})")]
    private static partial void LogStopped(ILogger logger, string dataDirectory);
}

/// <summary>Starts the private cluster before anything else starts (and migrations run), stops it last.</summary>
internal sealed class LocalDatabaseService(LocalDatabaseRunner runner) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => runner.StartAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Always stops the cluster, even when the host's shutdown time is up (pg_ctl bounds its own wait).</summary>
    public Task StoppedAsync(CancellationToken cancellationToken) => runner.StopAsync(CancellationToken.None);
}

public static class LocalDatabaseHostingExtensions
{
    public const string ConnectionStringName = "Fleet";

    /// <summary>True when no database is configured: the server then runs its own (the one-command mode).</summary>
    public static bool UsesLocalDatabase(this IConfiguration configuration) =>
        string.IsNullOrWhiteSpace(configuration.GetConnectionString(ConnectionStringName));

    /// <summary>
    /// When <c>ConnectionStrings:Fleet</c> is empty: picks the cluster's port, sets the connection string (so
    /// storage, registered after this, finds it) and registers the cluster to start first and stop last (with
    /// <paramref name="hosted"/>; the CLI starts and stops <see cref="LocalDatabaseRunner"/> itself).
    /// Returns whether the server runs its own database.
    /// </summary>
    public static bool AddLocalDatabase(this IHostApplicationBuilder builder, bool hosted = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Configuration.UsesLocalDatabase())
        {
            return false;
        }
        var options = builder.Configuration.GetSection(LocalDatabaseOptions.Section).Get<LocalDatabaseOptions>() ?? new LocalDatabaseOptions();
        var errors = new List<string>();
        if (options.Port is < 0 or > 65_535)
        {
            errors.Add($"{LocalDatabaseOptions.Section}:Port is {options.Port}: allowed are 0 (a free port) to 65535");
        }
        if (string.IsNullOrWhiteSpace(options.Database) || !options.Database.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            errors.Add($"{LocalDatabaseOptions.Section}:Database is '{options.Database}': use letters, digits and '_'");
        }
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(LocalDatabaseOptions.Section, typeof(LocalDatabaseOptions), errors);
        }
        int port = options.Port != 0 ? options.Port : LocalDatabaseRunner.FreePort();
        builder.Configuration.AddInMemoryCollection([new($"ConnectionStrings:{ConnectionStringName}", LocalDatabaseRunner.ConnectionStringFor(port, options.Database))]);
        builder.Services.AddSingleton(sp => new LocalDatabaseRunner(options, port, sp.GetRequiredService<ILoggerFactory>()));
        if (hosted)
        {
            builder.Services.AddHostedService<LocalDatabaseService>();
        }
        return true;
    }
}
