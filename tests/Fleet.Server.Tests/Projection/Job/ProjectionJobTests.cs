using Fleet.Server.Tests.Dashboard;
using Fleet.Web.Data;
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;
using static Fleet.Server.Tests.Projection.Job.ProjectionJobHarness;

namespace Fleet.Server.Tests.Projection.Job;

/// <summary>One job pass over series stored with a known ground truth, on a controlled clock.</summary>
public sealed class ProjectionJobTests(ProjectionJobHarness harness) : IClassFixture<ProjectionJobHarness>
{
    private static readonly DateTimeOffset Now = Start;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Pass_OnALeakThatRestartedOnceAndAFlatInstance_ProjectsTheLeakToItsSoftLimit_MarksTheRestart_AndCallsTheFlatOneNoLeak()
    {
        // The latest snapshot (the agent names the process "leaky-101": pid 101 started 1101 ticks after boot).
        await harness.Storage.StoreAsync(Make("pj-leak", 1, Now, new Proc("leaky", 101, 750, 4096), new Proc("flat", 200, 300, 1024)));
        int host = await harness.HostIdAsync("pj-leak");
        int leaky = await harness.ServiceIdAsync("pj-leak", "leaky");
        int flat = await harness.ServiceIdAsync("pj-leak", "flat");
        // Ground truth: 200 fds rising 40/h from a day ago in pid 100; restarted 10 h ago (pid 101) at 150 fds rising
        // 60/h, so 750 now and (4096 - 750) / 60 h to the soft limit; noise of +-4 fds on every reading.
        var restart = Now.AddHours(-10);
        var noise = Noise(1, 4);
        var leak = Every(Step, Now.AddHours(-24), Now)
            .Select(t => t < restart
                ? (At: t, Pid: 100, Start: 1100L, Fds: (int)Math.Round(200 + 40 * (t - Now.AddHours(-24)).TotalHours + noise()))
                : (At: t, Pid: 101, Start: 1101L, Fds: (int)Math.Round(150 + 60 * (t - restart).TotalHours + noise())))
            .ToList();
        await harness.WriteInstanceAsync(host, leaky, 101, 4096, 524288, leak.Select(s => (s.At, s.Fds)));
        await harness.WriteProcessAsync(host, leaky, "leaky-101", 4096, 524288, leak.Select(s => (s.At, s.Pid, s.Start, s.Fds)));
        var flatNoise = Noise(2, 4);
        await harness.WriteInstanceAsync(host, flat, 200, 1024, 524288, Every(Step, Now.AddHours(-24), Now).Select(t => (t, (int)Math.Round(300 + flatNoise()))));

        var pass = await harness.NewJob().RunPassAsync(CancellationToken.None).WaitAsync(TestTimeout);
        var projections = await harness.Store.HostAsync("pj-leak", CancellationToken.None).WaitAsync(TestTimeout);

        Assert.True(pass.FullRead);
        var truth = TimeSpan.FromHours((4096 - 750) / 60.0);
        var instance = Assert.Single(projections, p => p.Service == "leaky" && p.Pid is null);
        Assert.Equal(LeakVerdict.Leak, instance.Verdict);
        Assert.InRange(instance.TimeToSoftLimit!.Value.TotalHours, truth.TotalHours * 0.9, truth.TotalHours * 1.1);
        Assert.InRange(instance.SlopePerHour, 54, 66);
        Assert.Equal(4096UL, instance.SoftLimit);
        Assert.Equal(524288UL, instance.HardLimit);
        Assert.True(instance.TimeToHardLimit > instance.TimeToSoftLimit);
        Assert.Equal(Now, instance.ComputedAt);
        var marker = Assert.Single(instance.Restarts);
        Assert.InRange(marker, restart.AddMinutes(-2), restart.AddMinutes(2));
        Assert.Null(instance.SocketLeak);

        var process = Assert.Single(projections, p => p.Service == "leaky" && p.Pid is not null);
        Assert.Equal((101, "leaky-101"), (process.Pid, process.Command));
        Assert.Equal(LeakVerdict.Leak, process.Verdict);
        Assert.InRange(Assert.Single(process.Restarts), restart.AddMinutes(-2), restart.AddMinutes(2));
        Assert.InRange(process.TimeToSoftLimit!.Value.TotalHours, truth.TotalHours * 0.9, truth.TotalHours * 1.1);

        var steady = Assert.Single(projections, p => p.Service == "flat" && p.Pid is null);
        Assert.Equal(LeakVerdict.NoLeak, steady.Verdict);
        Assert.Null(steady.TimeToSoftLimit);
        Assert.Empty(steady.Restarts);
    }

    [Fact]
    public async Task Pass_WhereCloseWaitTowardOneRemoteGrowsWithTheFds_NamesThatRemoteAsASocketLeak()
    {
        // 12 h of a proxy whose fds rise 50/h, 40/h of them CLOSE_WAIT sockets toward 10.0.3.7:443; a database
        // connection pool keeps 3 CLOSE_WAIT toward 10.0.9.9:5432 all along.
        var from = Now.AddHours(-12);
        int CloseWait(DateTimeOffset t) => (int)Math.Floor(40 * (t - from).TotalHours);
        await harness.Storage.StoreAsync(Make("pj-socket", 1, Now, new Proc("proxy", 300, 700, 65536, ("10.0.3.7", 443, 480), ("10.0.9.9", 5432, 3))));
        int host = await harness.HostIdAsync("pj-socket");
        int proxy = await harness.ServiceIdAsync("pj-socket", "proxy");
        var noise = Noise(3, 3);
        var times = Every(Step, from, Now).ToList();
        await harness.WriteInstanceAsync(host, proxy, 300, 65536, 524288, times.Select(t => (t, (int)Math.Round(100 + 10 * (t - from).TotalHours + CloseWait(t) + noise()))));
        await harness.WriteCloseWaitAsync(host, proxy, 300, "10.0.3.7", 443, times.Select(t => (t, CloseWait(t))));
        await harness.WriteCloseWaitAsync(host, proxy, 300, "10.0.9.9", 5432, times.Select(t => (t, 3)));

        var pass = await harness.NewJob().RunPassAsync(CancellationToken.None).WaitAsync(TestTimeout);
        var projections = await harness.Store.HostAsync("pj-socket", CancellationToken.None).WaitAsync(TestTimeout);

        Assert.True(pass.SocketLeaks >= 1);
        var instance = Assert.Single(projections, p => p.Service == "proxy" && p.Pid is null);
        Assert.Equal(LeakVerdict.Leak, instance.Verdict);
        var socket = Assert.IsType<SocketLeak>(instance.SocketLeak);
        Assert.Equal("10.0.3.7:443", socket.Remote);
        Assert.InRange(socket.CloseWaitSlopePerHour, 36, 44);
        Assert.InRange(socket.ShareOfFdRise, 0.7, 0.9);
        Assert.Equal(480UL, socket.CloseWaitNow);
        Assert.Contains("socket leak toward 10.0.3.7:443", instance.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Pass_WhereCloseWaitIsSteadyWhileTheFdsLeak_NamesNoSocketLeak()
    {
        var from = Now.AddHours(-12);
        await harness.Storage.StoreAsync(Make("pj-nosocket", 1, Now, new Proc("files", 400, 700, 65536, ("10.0.9.9", 5432, 3))));
        int host = await harness.HostIdAsync("pj-nosocket");
        int files = await harness.ServiceIdAsync("pj-nosocket", "files");
        var noise = Noise(4, 3);
        var times = Every(Step, from, Now).ToList();
        await harness.WriteInstanceAsync(host, files, 400, 65536, 524288, times.Select(t => (t, (int)Math.Round(100 + 50 * (t - from).TotalHours + noise()))));
        await harness.WriteCloseWaitAsync(host, files, 400, "10.0.9.9", 5432, times.Select(t => (t, 3)));

        await harness.NewJob().RunPassAsync(CancellationToken.None).WaitAsync(TestTimeout);
        var projections = await harness.Store.HostAsync("pj-nosocket", CancellationToken.None).WaitAsync(TestTimeout);

        var instance = Assert.Single(projections, p => p.Service == "files" && p.Pid is null);
        Assert.Equal(LeakVerdict.Leak, instance.Verdict);
        Assert.Null(instance.SocketLeak);
    }

    [Fact]
    public async Task Pass_OnWorkersSharingOneCommandName_ProjectsEachWorkerOnItsOwn_WithoutFalseRestarts()
    {
        await harness.Storage.StoreAsync(Make("pj-workers", 1, Now, new Proc("web", 500, 400, 4096), new Proc("web", 501, 200, 4096)));
        int host = await harness.HostIdAsync("pj-workers");
        int web = await harness.ServiceIdAsync("pj-workers", "web");
        // Two workers named "worker" side by side for 6 h: pid 500 leaks 30/h, pid 501 stays at 200.
        var from = Now.AddHours(-6);
        var noise = Noise(5, 3);
        var times = Every(Step, from, Now).ToList();
        await harness.WriteProcessAsync(host, web, "worker", 4096, 524288, times.SelectMany(t => new[]
        {
            (t, 500, 5000L, (int)Math.Round(220 + 30 * (t - from).TotalHours + noise())),
            (t, 501, 5001L, (int)Math.Round(200 + noise())),
        }));

        await harness.NewJob().RunPassAsync(CancellationToken.None).WaitAsync(TestTimeout);
        var projections = await harness.Store.HostAsync("pj-workers", CancellationToken.None).WaitAsync(TestTimeout);

        var workers = projections.Where(p => p.Command == "worker").OrderBy(p => p.Pid).ToList();
        Assert.Equal([500, 501], workers.Select(p => p.Pid ?? 0));
        Assert.Equal(LeakVerdict.Leak, workers[0].Verdict);
        Assert.Equal(LeakVerdict.NoLeak, workers[1].Verdict);
        Assert.All(workers, w => Assert.Empty(w.Restarts));
    }
}
