using Fleet.Contracts.V1;
using Fleet.Server.Dashboard;
using Fleet.Server.Storage;
using Fleet.Server.Storage.Series;
using Fleet.Server.Tests.Storage;
using Fleet.Web.Data;
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;

namespace Fleet.Server.Tests.Dashboard;

public sealed class DashboardHostTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly DateTimeOffset Now = StorageHarness.Start;

    private PostgresDashboardData Data => new(harness.DataSource);

    private static TimeWindow LastHour => Window(Now.AddHours(-1), Now);

    [Fact]
    public async Task HostDetail_OfTheLatestSnapshot_MapsServicesProcessesUnreadableSystemAndAgentCost()
    {
        var host = TestSnapshots.Host("detail-host");
        var older = TestSnapshots.Realistic(host, 1, Now.AddMinutes(-2), 300, seed: 3);
        var latest = TestSnapshots.Realistic(host, 2, Now.AddMinutes(-1), 300, seed: 4);
        await harness.StoreAsync(older, latest);

        var detail = await Data.HostDetailAsync("detail-host", LastHour, CancellationToken.None).WaitAsync(TestTimeout);

        Assert.NotNull(detail);
        Assert.Equal(("detail-host", "machine-detail-host", "6.1.0-27-amd64", "1.2.3"), (detail.Name, detail.MachineId, detail.Kernel, detail.AgentVersion));
        Assert.Equal((Now, Now.AddMinutes(-1), 2UL, TimeSpan.FromSeconds(10)), (detail.LastSeen!.Value, detail.CollectedAt, detail.Sequence, detail.AgentInterval));
        Assert.Equal(300, detail.ProcessesSeen);

        Assert.Equal(latest.Services.Select(s => s.Name).Order(StringComparer.Ordinal), detail.Services.Select(s => s.Name));
        foreach (var s in latest.Services)
        {
            var row = detail.Services.Single(r => r.Name == s.Name);
            Assert.Equal(
                (s.Name, "systemd", (int)s.ProcessCount, (int)s.UnreadableProcessCount, s.OpenFds, s.WorstPid, s.WorstOpenFds, s.WorstNofileSoft, s.WorstNofileHard, s.WorstSoftLimitPercent),
                (row.Name, row.Source, row.Processes, row.UnreadableProcesses, row.OpenFds, row.WorstPid, row.WorstOpenFds, row.WorstSoftLimit, row.WorstHardLimit, row.WorstSoftLimitPercent));
            Assert.Equal((s.Tcp.Established, s.Tcp.CloseWait, s.Tcp.Listen, s.Tcp.FinWait1), (row.Tcp.Established, row.Tcp.CloseWait, row.Tcp.Listen, row.Tcp.FinWait1));
        }

        // The stored latest snapshot keeps the processes that matter; the readable ones are listed with their figures.
        var kept = SnapshotFigures.LatestKept(latest, new StorageOptions().TopProcesses).Processes;
        Assert.True(kept.Count < latest.Processes.Count);
        Assert.Equal(kept.Where(p => p.FdsReadable).Select(p => p.Pid).Order(), detail.Processes.Select(p => p.Pid).Order());
        Assert.Equal(detail.Processes.OrderByDescending(p => p.OpenFds).ThenBy(p => p.Pid), detail.Processes);
        foreach (var p in kept.Where(p => p.FdsReadable))
        {
            var row = detail.Processes.Single(r => r.Pid == p.Pid);
            var f = p.Fds;
            Assert.Equal(
                new FdBreakdown(f.RegularFile, f.Directory, f.Pipe + f.Fifo, f.SocketTcp, f.SocketUdp, f.SocketUnix, f.SocketNetlink + f.SocketOther,
                    f.Eventpoll + f.Eventfd + f.Timerfd + f.Signalfd + f.Inotify + f.AnonInodeOther, f.CharDevice + f.BlockDevice + f.Memfd + f.Other),
                row.Fds);
            Assert.Equal(
                (p.Comm, p.Service, p.Cmdline, p.StartTime.ToDateTimeOffset(), p.OpenFds, p.NofileSoft, p.NofileHard, p.Tcp.CloseWait, p.Tcp.Established),
                (row.Comm, row.Service, row.CommandLine, row.StartTime!.Value, row.OpenFds, row.SoftLimit, row.HardLimit, row.Tcp.CloseWait, row.Tcp.Established));
            Assert.Equal(TestSnapshots.Percent(p), row.SoftLimitPercent, 9);
            Assert.Equal(f.RegularFile + f.Directory + f.Pipe + f.Fifo + f.SocketTcp + f.SocketUdp + f.SocketUnix + f.SocketNetlink + f.SocketOther
                + f.Eventpoll + f.Eventfd + f.Timerfd + f.Signalfd + f.Inotify + f.AnonInodeOther + f.CharDevice + f.BlockDevice + f.Memfd + f.Other,
                row.Fds.RegularFile + row.Fds.Directory + row.Fds.Pipe + row.Fds.SocketTcp + row.Fds.SocketUdp + row.Fds.SocketUnix + row.Fds.SocketOther + row.Fds.AnonInode + row.Fds.Other);
        }
        var unreadable = latest.Processes.Where(p => !p.FdsReadable).ToList();
        Assert.NotEmpty(unreadable);
        Assert.Equal(unreadable.Select(p => new UnreadableProcess(p.Pid, p.Comm, p.Service)).OrderBy(p => p.Pid), detail.Unreadable);

        var u = latest.UnownedTcp;
        Assert.Equal(new TcpStateCounts(u.Established, u.SynSent, u.SynRecv, u.FinWait1, u.FinWait2, u.TimeWait, u.Close, u.CloseWait, u.LastAck, u.Listen, u.Closing, u.NewSynRecv), detail.UnownedTcp);
        var sys = latest.System;
        Assert.Equal(
            (sys.FileHandlesAllocated, sys.FileHandlesMax, sys.NrOpen, sys.EphemeralPortLow, sys.EphemeralPortHigh, sys.EphemeralPortsInUse, "10.1.2.3:5432", sys.TopEphemeralRemote.Count),
            (detail.System.FileHandlesAllocated, detail.System.FileHandlesMax, detail.System.NrOpen, detail.System.EphemeralPortLow, detail.System.EphemeralPortHigh, detail.System.EphemeralPortsInUse, detail.System.TopEphemeralRemote, detail.System.TopEphemeralCount));
        Assert.Equal(
            (sys.TcpOrphans, sys.TcpMaxOrphans, sys.TcpTimeWait, sys.TcpFinTimeoutSeconds, sys.TcpTwReuse, sys.ConntrackPresent, sys.ConntrackCount, sys.ConntrackMax, sys.InotifyMaxUserInstances, sys.InotifyMaxUserWatches),
            (detail.System.TcpOrphans, detail.System.TcpMaxOrphans, detail.System.TcpTimeWait, detail.System.TcpFinTimeoutSeconds, detail.System.TcpTwReuse, detail.System.ConntrackPresent, detail.System.ConntrackCount, detail.System.ConntrackMax, detail.System.InotifyMaxUserInstances, detail.System.InotifyMaxUserWatches));
        Assert.Equal(sys.InotifyByUser.Select(x => new Fleet.Web.Data.UserInotify(x.Uid, x.Instances)), detail.System.InotifyByUser);
        Assert.Equal(60999UL - 32768 + 1, detail.System.EphemeralPortRange);

        var c = latest.AgentCost;
        Assert.Equal(
            new AgentCostView(TimeSpan.FromMilliseconds(42.5), TimeSpan.FromMilliseconds(31.25), TimeSpan.FromMilliseconds(42.5), c.ResidentBytes, (int)c.ProcessesSeen,
                unreadable.Count, (int)c.ProcessesVanished, (int)c.MalformedLines, (int)c.ProcessesRescanned, c.FdsRead, 1),
            detail.AgentCost);
    }

    [Fact]
    public async Task HostDetail_CloseWaitRemotes_CountNowPerRemoteAndServiceAndTheChangeSinceTheWindowsFirstSample()
    {
        // 10.0.0.5:5432 is a remote of both services; two processes of x hold sockets to it at the end.
        var s1 = Make("cw-host", 1, Now.AddMinutes(-30),
            new Proc("x", 100, 50, 1024, ("10.0.0.5", 5432, 5), ("10.0.0.6", 80, 3)), new Proc("y", 200, 50, 1024, ("10.0.0.5", 5432, 1)));
        var s2 = Make("cw-host", 2, Now.AddMinutes(-20),
            new Proc("x", 100, 50, 1024, ("10.0.0.5", 5432, 7), ("10.0.0.6", 80, 3)), new Proc("y", 200, 50, 1024, ("10.0.0.5", 5432, 2)));
        var s3 = Make("cw-host", 3, Now.AddMinutes(-10),
            new Proc("x", 100, 50, 1024, ("10.0.0.5", 5432, 4)), new Proc("x", 101, 50, 1024, ("10.0.0.5", 5432, 2)),
            new Proc("y", 200, 50, 1024, ("10.0.0.5", 5432, 6), ("2001:db8::17", 443, 1)));
        await harness.StoreAsync(s1, s2, s3);

        var sinceSecond = await Data.HostDetailAsync("cw-host", Window(Now.AddMinutes(-25), Now), CancellationToken.None).WaitAsync(TestTimeout);
        var sinceBeforeAny = await Data.HostDetailAsync("cw-host", Window(Now.AddHours(-1), Now), CancellationToken.None).WaitAsync(TestTimeout);
        var afterTheLast = await Data.HostDetailAsync("cw-host", Window(Now.AddMinutes(-5), Now), CancellationToken.None).WaitAsync(TestTimeout);

        Assert.Equal(
            [new("10.0.0.5:5432", "x", 6, 6 - 7), new("10.0.0.5:5432", "y", 6, 6 - 2), new("[2001:db8::17]:443", "y", 1, 1)],
            sinceSecond!.CloseWaitRemotes.OrderBy(r => r.Remote, StringComparer.Ordinal).ThenBy(r => r.Service, StringComparer.Ordinal));
        Assert.Equal(
            [new("10.0.0.5:5432", "x", 6, 6 - 5), new("10.0.0.5:5432", "y", 6, 6 - 1), new("[2001:db8::17]:443", "y", 1, 1)],
            sinceBeforeAny!.CloseWaitRemotes.OrderBy(r => r.Remote, StringComparer.Ordinal).ThenBy(r => r.Service, StringComparer.Ordinal));
        Assert.All(afterTheLast!.CloseWaitRemotes, r => Assert.Equal(0, r.ChangeOverWindow));
        Assert.Equal(3, afterTheLast.CloseWaitRemotes.Count);
        Assert.Equal(sinceSecond.CloseWaitRemotes.OrderByDescending(r => r.Count).Select(r => r.Count), sinceSecond.CloseWaitRemotes.Select(r => r.Count));
    }

    [Fact]
    public async Task Host_SeriesOverAnHour_ComeFromRawSamplesPerServiceWithGapsWhereNoSnapshotWas()
    {
        // "old" ran three hours ago only; "batch" in the first burst only; "web" always. Bursts of 30 s snapshots
        // from 50 to 40 and from 20 to 15 minutes ago, nothing between.
        var snapshots = new List<Snapshot> { Make("raw-host", 1, Now.AddHours(-3), new Proc("old", 1, 10, 100), new Proc("web", 2, 10, 1000)) };
        ulong seq = 2;
        var times = Enumerable.Range(0, 20).Select(i => Now.AddMinutes(-50).AddSeconds(30 * i))
            .Concat(Enumerable.Range(0, 10).Select(i => Now.AddMinutes(-20).AddSeconds(30 * i)));
        foreach (var at in times)
        {
            int k = (int)seq;
            var procs = new List<Proc> { new("web", 2, (ulong)(100 + k * 37 % 50), 1000, ("10.0.0.9", 8080, (ulong)(k % 4))), new("web", 3, 5, 1000) };
            if (at < Now.AddMinutes(-30))
            {
                procs.Add(new Proc("batch", 4, (ulong)(200 + k), 256));
            }
            snapshots.Add(Make("raw-host", seq++, at, [.. procs]));
        }
        await harness.StoreAsync([.. snapshots]);

        var view = await Data.HostAsync("raw-host", LastHour, CancellationToken.None).WaitAsync(TestTimeout);
        var wider = await Data.HostAsync("raw-host", Window(Now.AddHours(-4), Now), CancellationToken.None).WaitAsync(TestTimeout);

        Assert.NotNull(view);
        var series = view.Series;
        var step = TimeSpan.FromSeconds(15);
        var from = Now.AddHours(-1);
        foreach (var set in new[] { series.CloseWaitByService, series.SoftLimitPercentByService, series.OpenFdsByService, series.FileHandles, series.EphemeralPorts, series.TcpOrphans, series.Conntrack })
        {
            Assert.Equal(("raw", step), (set.Source, set.Step));
            Assert.All(set.Series, s => Assert.Equal(Enumerable.Range(0, 240).Select(i => from + i * step), s.Points.Select(p => p.Time)));
        }
        Assert.Equal(["close_wait", "soft_limit_percent", "open_fds"], new[] { series.CloseWaitByService, series.SoftLimitPercentByService, series.OpenFdsByService }.Select(s => s.Metric));
        Assert.Equal(["batch", "web"], series.OpenFdsByService.Series.Select(s => s.Name));
        Assert.Equal(["batch", "web"], series.CloseWaitByService.Series.Select(s => s.Name));

        var inWindow = snapshots.Where(s => s.At() >= from).ToList();
        double?[] ServiceValues(string service, Func<Service, double> figure) =>
            Expected(from, step, 240, inWindow.SelectMany(s => s.Services.Where(x => x.Name == service).Select(x => (s.At(), figure(x)))));
        double?[] HostValues(Func<Snapshot, double> figure) => Expected(from, step, 240, inWindow.Select(s => (s.At(), figure(s))));

        Assert.Equal(ServiceValues("web", x => x.OpenFds), Values(series.OpenFdsByService, "web"));
        Assert.Equal(ServiceValues("batch", x => x.OpenFds), Values(series.OpenFdsByService, "batch"));
        Assert.Equal(ServiceValues("web", x => x.Tcp.CloseWait), Values(series.CloseWaitByService, "web"));
        Assert.Equal(ServiceValues("batch", x => (float)x.WorstSoftLimitPercent), Values(series.SoftLimitPercentByService, "batch"));
        Assert.Equal(HostValues(s => s.System.FileHandlesAllocated), Values(series.FileHandles, "raw-host"));
        Assert.Equal(HostValues(s => s.System.EphemeralPortsInUse), Values(series.EphemeralPorts, "raw-host"));
        Assert.Equal(HostValues(s => s.System.TcpOrphans), Values(series.TcpOrphans, "raw-host"));
        Assert.Equal(HostValues(s => s.System.ConntrackCount), Values(series.Conntrack, "raw-host"));
        // Gaps: the steps between the bursts and the ones between snapshots 30 s apart.
        Assert.Equal(30, Values(series.OpenFdsByService, "web").Count(v => v is not null));
        Assert.Null(Values(series.OpenFdsByService, "web")[(int)((Now.AddMinutes(-30) - from) / step)]);

        Assert.Equal(["batch", "old", "web"], wider!.Series.OpenFdsByService.Series.Select(s => s.Name));
        Assert.Equal("raw", wider.Series.OpenFdsByService.Source);
    }

    [Fact]
    public async Task Host_SeriesOverADayAndAWeek_ComeFromTheMinuteAndHourRollups()
    {
        var snapshots = Enumerable.Range(0, 150)
            .Select(i => Make("rollup-host", (ulong)(i + 1), Now.AddHours(-3).AddMinutes(i),
                new Proc("web", 2, (ulong)(100 + i * 53 % 97), 1000, ("10.0.0.9", 8080, (ulong)(i % 5))),
                new Proc("db", 3, (ulong)(400 + i * 31 % 89), 2048)))
            .ToArray();
        await harness.StoreAsync(snapshots);
        await harness.Rollups.RollUpMinutesAsync(CancellationToken.None).WaitAsync(TestTimeout);
        await harness.Rollups.RollUpHoursAsync(CancellationToken.None).WaitAsync(TestTimeout);

        var day = await Data.HostAsync("rollup-host", Window(Now.AddDays(-1), Now), CancellationToken.None).WaitAsync(TestTimeout);
        var week = await Data.HostAsync("rollup-host", Window(Now.AddDays(-7), Now), CancellationToken.None).WaitAsync(TestTimeout);

        foreach (var (view, source, step, points, from) in new[] { (day, "1m", TimeSpan.FromMinutes(5), 288, Now.AddDays(-1)), (week, "1h", TimeSpan.FromHours(1), 168, Now.AddDays(-7)) })
        {
            var series = view!.Series;
            Assert.Equal((source, step), (series.OpenFdsByService.Source, series.OpenFdsByService.Step));
            Assert.Equal((source, step), (series.FileHandles.Source, series.FileHandles.Step));
            Assert.Equal(["db", "web"], series.OpenFdsByService.Series.Select(s => s.Name));
            Assert.All(series.OpenFdsByService.Series, s => Assert.Equal(points, s.Points.Count));
            Assert.Equal(from, series.OpenFdsByService.Series[0].Points[0].Time);

            double?[] ServiceValues(string service, Func<Service, double> figure) =>
                Expected(from, step, points, snapshots.SelectMany(s => s.Services.Where(x => x.Name == service).Select(x => (s.At(), figure(x)))));
            Assert.Equal(ServiceValues("web", x => x.OpenFds), Values(series.OpenFdsByService, "web"));
            Assert.Equal(ServiceValues("db", x => x.OpenFds), Values(series.OpenFdsByService, "db"));
            Assert.Equal(ServiceValues("web", x => x.Tcp.CloseWait), Values(series.CloseWaitByService, "web"));
            Assert.Equal(ServiceValues("db", x => (float)x.WorstSoftLimitPercent), Values(series.SoftLimitPercentByService, "db"));
            Assert.Equal(Expected(from, step, points, snapshots.Select(s => (s.At(), (double)s.System.FileHandlesAllocated))), Values(series.FileHandles, "rollup-host"));
            Assert.Equal(Expected(from, step, points, snapshots.Select(s => (s.At(), (double)s.System.ConntrackCount))), Values(series.Conntrack, "rollup-host"));
        }
        Assert.Equal(30, Values(day!.Series.OpenFdsByService, "web").Count(v => v is not null));
        Assert.Equal(3, Values(week!.Series.OpenFdsByService, "web").Count(v => v is not null));
    }

    [Fact]
    public async Task Host_UnknownUnsentOrUnstorableName_IsNull()
    {
        await harness.StoreAsync(Make("known-host", 1, Now.AddMinutes(-1), new Proc("web", 2, 10, 100)));
        await harness.RegisterAsync(Make("registered-only", 1, Now));

        foreach (string name in new[] { "no-such-host", "registered-only", new string('h', 257), "", "bad\0name", "bad\ud800name" })
        {
            Assert.Null(await Data.HostAsync(name, LastHour, CancellationToken.None).WaitAsync(TestTimeout));
            Assert.Null(await Data.HostDetailAsync(name, LastHour, CancellationToken.None).WaitAsync(TestTimeout));
        }
        Assert.NotNull(await Data.HostAsync("known-host", LastHour, CancellationToken.None).WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task Host_WithAReversedOrEmptyOrHugeWindow_AnswersWithoutError()
    {
        await harness.StoreAsync(Make("odd-window-host", 1, Now.AddMinutes(-1), new Proc("web", 2, 10, 100)));

        var reversed = await Data.HostAsync("odd-window-host", Window(Now, Now.AddHours(-1)), CancellationToken.None).WaitAsync(TestTimeout);
        var empty = await Data.HostAsync("odd-window-host", Window(Now, Now), CancellationToken.None).WaitAsync(TestTimeout);
        var huge = await Data.HostAsync("odd-window-host", Window(DateTimeOffset.MinValue, DateTimeOffset.MaxValue), CancellationToken.None).WaitAsync(TestTimeout);

        Assert.Equal(Values(reversed!.Series.OpenFdsByService, "web"), Values((await Data.HostAsync("odd-window-host", LastHour, CancellationToken.None).WaitAsync(TestTimeout))!.Series.OpenFdsByService, "web"));
        Assert.Single(Values(empty!.Series.OpenFdsByService, "web"), v => v is not null);
        // Cut to its last 400 days (of the year 2200): no data there, but an answer.
        Assert.InRange(huge!.Series.OpenFdsByService.Series.Single().Points.Count, 1, 400);
        Assert.Equal("odd-window-host", huge.Detail.Name);
    }

    private static double?[] Values(SeriesSet set, string name) => [.. set.Series.Single(s => s.Name == name).Points.Select(p => p.Value)];
}
