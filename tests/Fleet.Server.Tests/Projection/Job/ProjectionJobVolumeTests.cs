using System.Globalization;
using Fleet.Server.Tests.Dashboard;
using Fleet.Web.Data;
using Npgsql;
using Xunit.Abstractions;
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;
using static Fleet.Server.Tests.Projection.Job.ProjectionJobHarness;

namespace Fleet.Server.Tests.Projection.Job;

/// <summary>
/// A fleet's day of samples generated in the database (hosts x services instances at one reading per interval, one
/// process each, one in ten restarted once, one in twenty leaking with CLOSE_WAIT toward one remote), then passes of the
/// job. The size is small in the suite; FLEET_PROJECTION_VOLUME="hosts,services,intervalSeconds" (for example
/// "50,20,10") sets it to measure a pass: the timings are written to the test output, never asserted.
/// </summary>
public sealed class ProjectionJobVolumeTests(ProjectionJobHarness harness, ITestOutputHelper output) : IClassFixture<ProjectionJobHarness>
{
    [Fact]
    public async Task PassesOverADayOfAFleet_ProjectEveryInstance_FindThePlantedLeaksAndTheirSocketLeaks_AndNoOther()
    {
        var (hosts, services, interval) = Volume();
        var from = Start.AddHours(-24);
        var generated = await GenerateAsync(hosts, services, interval, from, Start);
        output.WriteLine($"{hosts} hosts x {services} services, one reading every {interval} s for 24 h: {generated}");
        harness.Clock.Now = Start;
        var job = harness.NewJob();

        // Ingest beside the pass: a probe host's snapshots stored through the production store before and during it.
        var probe = await harness.Storage.RegisterAsync(Make("probe-ingest", 1, Start, ProbeProcesses()));
        ulong sequence = 0;
        var alone = await StoreProbesAsync(probe, () => sequence++ < 30, () => sequence);
        var firstPass = job.RunPassAsync(CancellationToken.None);
        var beside = await StoreProbesAsync(probe, () => !firstPass.IsCompleted && sequence < 5_000, () => sequence++);
        var first = await firstPass.WaitAsync(TimeSpan.FromMinutes(10));
        output.WriteLine($"first pass (full read, cold): {first}");
        output.WriteLine($"ingest of a 20-process snapshot: alone median {Median(alone):0.0} ms (n={alone.Count}), during the full-read pass median {Median(beside):0.0} ms, max {beside.DefaultIfEmpty().Max():0.0} ms (n={beside.Count})");
        await GenerateSamplesAsync(interval, Start.AddSeconds(interval), Start.AddMinutes(1));
        harness.Clock.Now = Start.AddMinutes(1);
        var second = await job.RunPassAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(10));
        output.WriteLine($"second pass, a minute later (incremental): {second}");
        var third = await harness.NewJob().RunPassAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(10));
        output.WriteLine($"full read again (new job): {third}");

        Assert.False(second.FullRead);
        var views = (await harness.Store.QueryAsync(null, null, CancellationToken.None).WaitAsync(TestTimeout) ?? [])
            .Where(v => v.Host.StartsWith("vol-", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(hosts * services, views.Count(v => v.Pid is not null));
        var leaking = (await harness.Storage.RowsAsync("SELECT h.hostname, s.name FROM services s JOIN hosts h ON h.id = s.host_id WHERE s.id % 20 = 0"))
            .Select(r => ((string)r[0]!, (string)r[1]!))
            .ToHashSet();
        var instances = views.Where(v => v.Pid is null).ToList();
        Assert.Equal(hosts * services, instances.Count);
        Assert.All(instances, v => Assert.Equal(leaking.Contains((v.Host, v.Service)) ? LeakVerdict.Leak : LeakVerdict.NoLeak, v.Verdict));
        Assert.All(instances.Where(v => v.Verdict == LeakVerdict.Leak), v => Assert.Equal("10.0.3.7:443", v.SocketLeak?.Remote));
        Assert.All(instances.Where(v => v.Verdict != LeakVerdict.Leak), v => Assert.Null(v.SocketLeak));
    }

    private static Proc[] ProbeProcesses() => [.. Enumerable.Range(0, 20).Select(i => new Proc($"probe-{i % 5}", 9000 + i, 100, 4096))];

    /// <summary>Stores probe snapshots while <paramref name="go"/> holds; the wall time of each store, in ms.</summary>
    private async Task<List<double>> StoreProbesAsync(Fleet.Server.Ingest.AgentRegistration probe, Func<bool> go, Func<ulong> next)
    {
        var times = new List<double>();
        while (go())
        {
            ulong seq = next() + 2;
            var snapshot = Make("probe-ingest", seq, Start.AddHours(-2).AddSeconds(seq), ProbeProcesses());
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await harness.Storage.Store.StoreSnapshotAsync(probe, snapshot, CancellationToken.None).WaitAsync(TestTimeout);
            times.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return times;
    }

    private static double Median(List<double> values) => values.Count == 0 ? 0 : values.Order().ElementAt(values.Count / 2);

    private static (int Hosts, int Services, int IntervalSeconds) Volume()
    {
        string? setting = Environment.GetEnvironmentVariable("FLEET_PROJECTION_VOLUME");
        if (string.IsNullOrWhiteSpace(setting))
        {
            return (4, 5, 30);
        }
        int[] parts = [.. setting.Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))];
        return (parts[0], parts[1], parts[2]);
    }

    private async Task<string> GenerateAsync(int hosts, int services, int interval, DateTimeOffset from, DateTimeOffset to)
    {
        await harness.Storage.ExecuteAsync($"""
            INSERT INTO hosts (machine_id, hostname, kernel, boot_id, agent_version, first_seen, last_seen)
            SELECT 'vol-machine-' || h, 'vol-' || h, '', '', '1', '{from:O}', '{to:O}' FROM generate_series(1, {hosts}) h;
            INSERT INTO services (host_id, name, source, first_seen, last_seen)
            SELECT h.id, 'svc-' || s, 0, '{from:O}', '{to:O}' FROM hosts h, generate_series(1, {services}) s WHERE h.hostname LIKE 'vol-%';
            """);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await GenerateSamplesAsync(interval, from, to);
        await ExecuteLongAsync("ANALYZE");
        long rows = await harness.Storage.ScalarAsync<long>("SELECT (SELECT count(*) FROM service_samples) + (SELECT count(*) FROM process_samples) + (SELECT count(*) FROM close_wait_samples)");
        return $"{rows} sample rows generated in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s";
    }

    /// <summary>Samples at every interval in [from, to]: leaking instances (id % 20 = 0) rise 40/h from 200 (30/h of it CLOSE_WAIT toward 10.0.3.7:443), the others are flat with noise; processes with id % 10 = 3 restart 12 h into the day.</summary>
    private async Task GenerateSamplesAsync(int interval, DateTimeOffset from, DateTimeOffset to)
    {
        string series = $"""
            FROM services sv
            JOIN hosts h ON h.id = sv.host_id AND h.hostname LIKE 'vol-%'
            CROSS JOIN generate_series('{from:O}'::timestamptz, '{to:O}'::timestamptz, interval '{interval} seconds') t
            CROSS JOIN LATERAL (SELECT extract(epoch FROM t - '{Start.AddHours(-24):O}'::timestamptz) / 3600 AS hours) x
            CROSS JOIN LATERAL (SELECT round(CASE WHEN sv.id % 20 = 0 THEN 200 + 40 * x.hours ELSE 300 + (sv.id % 7) * 10 END + random() * 8 - 4)::int AS fds) f
            """;
        await ExecuteLongAsync(await InsertAsync("service_samples", new()
        {
            ["time"] = "t", ["service_id"] = "sv.id", ["host_id"] = "sv.host_id", ["process_count"] = "1", ["open_fds"] = "f.fds",
            ["worst_pid"] = "sv.id * 10", ["worst_open_fds"] = "f.fds", ["worst_nofile_soft"] = "4096", ["worst_nofile_hard"] = "524288",
            ["worst_soft_limit_percent"] = "f.fds / 40.96", ["tcp_close_wait"] = "CASE WHEN sv.id % 20 = 0 THEN floor(30 * x.hours)::int ELSE 0 END",
        }, series));
        await ExecuteLongAsync(await InsertAsync("process_samples", new()
        {
            ["time"] = "t", ["host_id"] = "sv.host_id", ["service_id"] = "sv.id", ["comm"] = "sv.name",
            ["pid"] = "sv.id * 10 + CASE WHEN sv.id % 10 = 3 AND x.hours >= 12 THEN 1 ELSE 0 END",
            ["start_ticks"] = "1000 + sv.id * 10 + CASE WHEN sv.id % 10 = 3 AND x.hours >= 12 THEN 1 ELSE 0 END",
            ["open_fds"] = "f.fds", ["nofile_soft"] = "4096", ["nofile_hard"] = "524288", ["soft_limit_percent"] = "f.fds / 40.96",
        }, series));
        await ExecuteLongAsync(await InsertAsync("close_wait_samples", new()
        {
            ["time"] = "t", ["host_id"] = "sv.host_id", ["service_id"] = "sv.id", ["pid"] = "sv.id * 10", ["port"] = "443",
            ["count"] = "floor(30 * x.hours)::int", ["remote"] = "'10.0.3.7'::inet",
        }, series + " WHERE sv.id % 20 = 0 AND floor(30 * x.hours) > 0"));
    }

    /// <summary>A statement without the 30 s command timeout (generating a large fleet's day takes minutes), bounded by the test's own.</summary>
    private async Task ExecuteLongAsync(string sql)
    {
        await using var cmd = harness.DataSource.CreateCommand(sql);
        cmd.CommandTimeout = 0;
        await cmd.ExecuteNonQueryAsync().WaitAsync(TimeSpan.FromMinutes(20));
    }

    /// <summary>INSERT ... SELECT with the given expressions and zero (or '') for every other column.</summary>
    private async Task<string> InsertAsync(string table, Dictionary<string, string> expressions, string from)
    {
        var columns = (await harness.Storage.RowsAsync("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position", table))
            .Select(r => ((string)r[0]!, (string)r[1]!))
            .ToList();
        return $"INSERT INTO {table} ({string.Join(", ", columns.Select(c => c.Item1))}) SELECT {string.Join(", ", columns.Select(c => expressions.TryGetValue(c.Item1, out var e) ? e : c.Item2 == "text" ? "''" : "0"))} {from}";
    }
}
