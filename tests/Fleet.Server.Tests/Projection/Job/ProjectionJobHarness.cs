using Fleet.Server.Projection;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Partitions;
using Fleet.Server.Tests.Infrastructure;
using Fleet.Server.Tests.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace Fleet.Server.Tests.Projection.Job;

/// <summary>
/// Storage and the projections as the server wires them (AddFleetStorage, AddProjections) on a fresh migrated database
/// with a manual clock; writes series straight into the time-series tables with binary COPY (every column the test
/// does not set is zero), so a day of samples is stored in a moment. Tests use hosts of their own.
/// </summary>
public sealed class ProjectionJobHarness : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = StorageHarness.Timeout;

    public static readonly DateTimeOffset Start = StorageHarness.Start;

    private ServiceProvider? _services;
    private readonly Dictionary<string, List<(string Name, string Type)>> _columns = [];

    internal ManualClock Clock => Storage.Clock;

    public IServiceProvider Services => _services ?? throw new InvalidOperationException("not started");

    public NpgsqlDataSource DataSource => Services.GetRequiredService<NpgsqlDataSource>();

    public ProjectionJob Job => Services.GetRequiredService<ProjectionJob>();

    /// <summary>A job of its own (with no series read yet), for a test that must not see another test's earlier pass.</summary>
    public ProjectionJob NewJob() => ActivatorUtilities.CreateInstance<ProjectionJob>(Services);

    public ProjectionStore Store => Services.GetRequiredService<ProjectionStore>();

    /// <summary>Storage as a StorageHarness would give it, over the same database (for storing snapshots).</summary>
    public StorageHarness Storage { get; } = new();

    public async Task InitializeAsync()
    {
        await Storage.InitializeAsync();
        _services = Build(Storage.Database.ConnectionString, Storage.Clock);
        await Storage.Partitions.EnsureDayAsync(DateOnly.FromDateTime(Start.UtcDateTime), CancellationToken.None).AsTask().WaitAsync(Timeout);
        for (int d = 1; d <= 3; d++)
        {
            await Storage.Partitions.EnsureDayAsync(DateOnly.FromDateTime(Start.UtcDateTime).AddDays(-d), CancellationToken.None).AsTask().WaitAsync(Timeout);
            await Storage.Partitions.EnsureDayAsync(DateOnly.FromDateTime(Start.UtcDateTime).AddDays(d), CancellationToken.None).AsTask().WaitAsync(Timeout);
        }
    }

    internal static ServiceProvider Build(string connectionString, TimeProvider clock, Dictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?> { ["ConnectionStrings:Fleet"] = connectionString };
        foreach (var (k, v) in settings ?? [])
        {
            values[k] = v;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(clock);
        services.AddFleetStorage(configuration);
        services.AddProjections(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
        await Storage.DisposeAsync();
    }

    public async Task<int> IdAsync(string sql, params object[] args) => await Storage.ScalarAsync<int>(sql, args);

    public Task<int> HostIdAsync(string hostname) => IdAsync("SELECT id FROM hosts WHERE hostname = $1", hostname);

    public Task<int> ServiceIdAsync(string hostname, string service) =>
        IdAsync("SELECT s.id FROM services s JOIN hosts h ON h.id = s.host_id WHERE h.hostname = $1 AND s.name = $2", hostname, service);

    /// <summary>Writes rows into a time-series table with binary COPY; columns not given are zero (or empty text).</summary>
    public async Task CopyAsync(string table, IEnumerable<IReadOnlyDictionary<string, object>> rows)
    {
        await using var conn = await DataSource.OpenConnectionAsync().AsTask().WaitAsync(Timeout);
        if (!_columns.TryGetValue(table, out var columns))
        {
            columns = [];
            await using var cmd = new NpgsqlCommand("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position", conn)
            {
                Parameters = { new NpgsqlParameter<string> { TypedValue = table } },
            };
            await using var reader = await cmd.ExecuteReaderAsync().WaitAsync(Timeout);
            while (await reader.ReadAsync())
            {
                columns.Add((reader.GetString(0), reader.GetString(1)));
            }
            _columns[table] = columns;
        }
        await using var writer = await conn.BeginBinaryImportAsync($"COPY {table} ({string.Join(", ", columns.Select(c => c.Name))}) FROM STDIN (FORMAT BINARY)").WaitAsync(Timeout);
        foreach (var row in rows)
        {
            await writer.StartRowAsync();
            foreach (var (name, type) in columns)
            {
                row.TryGetValue(name, out var value);
                switch (type)
                {
                    case "integer": await writer.WriteAsync(Convert.ToInt32(value ?? 0), NpgsqlDbType.Integer); break;
                    case "bigint": await writer.WriteAsync(Convert.ToInt64(value ?? 0L), NpgsqlDbType.Bigint); break;
                    case "smallint": await writer.WriteAsync(Convert.ToInt16(value ?? (short)0), NpgsqlDbType.Smallint); break;
                    case "real": await writer.WriteAsync(Convert.ToSingle(value ?? 0f), NpgsqlDbType.Real); break;
                    case "text": await writer.WriteAsync((string)(value ?? ""), NpgsqlDbType.Text); break;
                    case "inet": await writer.WriteAsync((System.Net.IPAddress)value!, NpgsqlDbType.Inet); break;
                    case "timestamp with time zone": await writer.WriteAsync(((DateTimeOffset)value!).UtcDateTime, NpgsqlDbType.TimestampTz); break;
                    default: throw new NotSupportedException($"{table}.{name}: {type}");
                }
            }
        }
        await writer.CompleteAsync().AsTask().WaitAsync(Timeout);
    }

    /// <summary>A service instance's samples (one process) with the given worst-process fds and limits.</summary>
    public Task WriteInstanceAsync(int hostId, int serviceId, int pid, int soft, int hard, IEnumerable<(DateTimeOffset At, int Fds)> samples) =>
        CopyAsync("service_samples", samples.Select(s => (IReadOnlyDictionary<string, object>)new Dictionary<string, object>
        {
            ["time"] = s.At, ["service_id"] = serviceId, ["host_id"] = hostId, ["process_count"] = 1, ["open_fds"] = s.Fds,
            ["worst_pid"] = pid, ["worst_open_fds"] = s.Fds, ["worst_nofile_soft"] = soft, ["worst_nofile_hard"] = hard,
            ["worst_soft_limit_percent"] = soft > 0 ? 100f * s.Fds / soft : 0f,
        }));

    /// <summary>A process's samples: one life per (pid, start ticks).</summary>
    public Task WriteProcessAsync(int hostId, int serviceId, string comm, int soft, int hard, IEnumerable<(DateTimeOffset At, int Pid, long StartTicks, int Fds)> samples) =>
        CopyAsync("process_samples", samples.Select(s => (IReadOnlyDictionary<string, object>)new Dictionary<string, object>
        {
            ["time"] = s.At, ["start_ticks"] = s.StartTicks, ["host_id"] = hostId, ["service_id"] = serviceId, ["pid"] = s.Pid,
            ["open_fds"] = s.Fds, ["nofile_soft"] = soft, ["nofile_hard"] = hard, ["soft_limit_percent"] = soft > 0 ? 100f * s.Fds / soft : 0f,
            ["comm"] = comm,
        }));

    public Task WriteCloseWaitAsync(int hostId, int serviceId, int pid, string remote, int port, IEnumerable<(DateTimeOffset At, int Count)> samples) =>
        CopyAsync("close_wait_samples", samples.Where(s => s.Count > 0).Select(s => (IReadOnlyDictionary<string, object>)new Dictionary<string, object>
        {
            ["time"] = s.At, ["host_id"] = hostId, ["service_id"] = serviceId, ["pid"] = pid, ["port"] = port, ["count"] = s.Count,
            ["remote"] = System.Net.IPAddress.Parse(remote),
        }));

    /// <summary>Times from <paramref name="from"/> up to (excluding) <paramref name="to"/>, every <paramref name="step"/>.</summary>
    public static IEnumerable<DateTimeOffset> Every(TimeSpan step, DateTimeOffset from, DateTimeOffset to)
    {
        for (var t = from; t < to; t += step)
        {
            yield return t;
        }
    }

    /// <summary>Deterministic noise in [-amplitude, amplitude] (a fixed seed per series).</summary>
    public static Func<double> Noise(int seed, double amplitude)
    {
        var random = new Random(seed);
        return () => (random.NextDouble() * 2 - 1) * amplitude;
    }
}
