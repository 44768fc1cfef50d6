using System.Globalization;

namespace Fleet.Dashboard.Benchmarks;

/// <summary>
/// The run: a private cluster; the history (generated, or continued from a kept cluster); the real server on it;
/// the live latency; the host page's server time; a summary with MET / NOT MET beside each target.
/// </summary>
internal static class DashboardBenchmark
{
    private static readonly TimeSpan LiveTarget = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PageTarget = TimeSpan.FromMilliseconds(500);

    public static async Task<int> RunAsync(BenchmarkOptions options, TextWriter report, TextWriter progress)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromHours(6));
        var ct = cancel.Token;
        // Ctrl+C or SIGTERM ends the run through its cancellation, so the cluster is stopped (and a kept one stays usable).
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
        void Stop(System.Runtime.InteropServices.PosixSignalContext context)
        {
            context.Cancel = true;
            progress.WriteLine("stopping: cancelling the run");
            cancel.Cancel();
        }
        var total = System.Diagnostics.Stopwatch.StartNew();
        HistoryResult? history = null;
        LiveResult? live = null;
        PageLoadResult? pages = null;
        var failures = new List<string>();
        try
        {
            await using var cluster = await BenchCluster.StartAsync(options.KeepDatabase, progress, ct);
            report.WriteLine(Invariant($"Fleet dashboard benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {LoadAverage()}"));
            if (!options.SkipPages)
            {
                await using var db = await HistoryDatabase.OpenAsync(cluster.ConnectionString, ct);
                history = await HistoryGenerator.GenerateAsync(cluster, db, options, progress, ct);
                ReportHistory(report, history, options);
            }

            progress.WriteLine("starting the server (Production environment, real storage, no local agent)");
            await using var server = new BenchServer(cluster.ConnectionString);
            var (http, grpc) = server.Start();
            // The two measurements are independent: one failing does not keep the other from being made.
            if (!options.SkipLive)
            {
                try
                {
                    live = await LiveLatency.RunAsync(server, http, grpc, options, progress, ct);
                    ReportLive(report, live);
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    failures.Add($"live latency: {e.GetType().Name}: {e.Message}");
                    progress.WriteLine($"live latency failed: {e}");
                }
            }
            if (history is not null)
            {
                try
                {
                    pages = await PageLoad.RunAsync(server, http, history.HostNames, options, progress, ct);
                    ReportPages(report, pages);
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    failures.Add($"host page load: {e.GetType().Name}: {e.Message}");
                    progress.WriteLine($"host page load failed: {e}");
                }
            }
        }
        catch (Exception e) when (!cancel.IsCancellationRequested || e is OperationCanceledException)
        {
            progress.WriteLine($"benchmark failed: {e}");
            report.WriteLine();
            report.WriteLine($"RUN FAILED: {e.GetType().Name}: {e.Message}");
            Summary(report, history, live, pages);
            return ExitCodes.Failed;
        }
        Summary(report, history, live, pages);
        report.WriteLine(Invariant($"total run time {total.Elapsed.TotalMinutes:0.0} min"));
        if (failures.Count > 0)
        {
            report.WriteLine();
            foreach (string failure in failures)
            {
                report.WriteLine($"RUN FAILED: {failure}");
            }
            return ExitCodes.Failed;
        }
        return ExitCodes.Reported;
    }

    private static void ReportHistory(TextWriter report, HistoryResult h, BenchmarkOptions options)
    {
        report.WriteLine();
        report.WriteLine(Invariant($"history: {options.Hosts} simulated hosts (seed {options.Seed}), {options.Days} days of 10 s snapshots ending now; simulation time zero {h.SimulationStart:yyyy-MM-dd HH:mm:ss} UTC"));
        report.WriteLine(Invariant($"  {(h.Reused ? "continued a kept history" : "generated")}: {h.Snapshots:N0} snapshots in {h.Elapsed.TotalSeconds:0} s ({h.Snapshots / Math.Max(0.001, h.Elapsed.TotalSeconds):0}/s) through PostgresIngestStore.StoreSnapshotsAsync in batches of 500 (storing {h.Storing.TotalSeconds:0} s), rollups (RollupService's statements, range-bounded; 1m after every chunk, 1h at the end) {h.RollingUp.TotalSeconds:0} s busy ({h.RollupTail.TotalSeconds:0} s after the last snapshot), ANALYZE {h.Analyzing.TotalSeconds:0} s; database {h.DatabaseBytes / 1073741824.0:0.0} GiB"));
        report.WriteLine($"  rollup check: {h.RollupCheck}");
    }

    private static void ReportLive(TextWriter report, LiveResult l)
    {
        report.WriteLine();
        report.WriteLine($"live: {l.HostName}'s host page (range=15m) in Chromium while its snapshots stream over gRPC; {l.Timed} timed snapshots after the warm-up");
        report.WriteLine($"  snapshot written to the stream -> page shows it: {l.Page.Describe()}");
        report.WriteLine($"  baseline, snapshot written -> its Ack (stored, committed): {l.Ack.Describe()}");
        report.WriteLine(Invariant($"  per snapshot, page time / Ack time: median {l.Ratio.P50:0.0}x, p95 {l.Ratio.P95:0.0}x; p95 page / p95 Ack {l.Page.P95 / l.Ack.P95:0.0}x"));
        report.WriteLine(Invariant($"  not shown as such (the page skipped it): {l.NotShown}; seen only by host-close-wait data-value (no last-snapshot data-sequence): {l.ShownByCloseWaitOnly}"));
    }

    private static void ReportPages(TextWriter report, PageLoadResult p)
    {
        report.WriteLine();
        report.WriteLine("host page server time (request sent -> last byte of the prerendered page on loopback), random hosts");
        report.WriteLine($"  baseline GET /healthz: {p.Healthz.Describe()}");
        report.WriteLine($"  baseline GET /api/hosts: {p.ApiHosts.Describe()}");
        foreach (var r in p.Ranges)
        {
            report.WriteLine($"  range={r.Range}: page {r.Page.Describe()}; HostAsync alone {r.Query.Describe()}");
            report.WriteLine(Invariant($"    page / healthz: p50 {r.Page.P50 / p.Healthz.P50:0}x, p95 {r.Page.P95 / p.Healthz.P95:0}x; page / api/hosts p50 {r.Page.P50 / p.ApiHosts.P50:0.0}x; HostAsync share of the page p50 {r.Query.P50 / r.Page.P50:P0}; page {r.MeanKiB} KiB, close-wait-chart data-points {(r.MeanPoints is { } n ? n.ToString("0", CultureInfo.InvariantCulture) : "absent")}"));
        }
    }

    private static void Summary(TextWriter report, HistoryResult? history, LiveResult? live, PageLoadResult? pages)
    {
        report.WriteLine();
        report.WriteLine("| measurement | p50 | p95 | max | baseline in the same run (p50 / p95) | ratio p50 / p95 | target |");
        report.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        if (live is not null)
        {
            report.WriteLine(Invariant($"| live: snapshot written -> host page shows it (n={live.Page.Count}) | {live.Page.P50:0} ms | {live.Page.P95:0} ms | {live.Page.Max:0} ms | written -> Ack {live.Ack.P50:0} / {live.Ack.P95:0} ms | {live.Page.P50 / live.Ack.P50:0.0}x / {live.Page.P95 / live.Ack.P95:0.0}x | p95 < {LiveTarget.TotalMilliseconds:0} ms: {Met(live.Page.Count > 0 && live.NotShown == 0 && live.Page.P95 < LiveTarget.TotalMilliseconds)} |"));
        }
        else
        {
            report.WriteLine("| live latency | not measured | | | | | |");
        }
        if (pages is not null)
        {
            foreach (var r in pages.Ranges)
            {
                report.WriteLine(Invariant($"| host page ?range={r.Range} server time (n={r.Page.Count}) | {r.Page.P50:0} ms | {r.Page.P95:0} ms | {r.Page.Max:0} ms | /healthz {pages.Healthz.P50:0.0} / {pages.Healthz.P95:0.0} ms | {r.Page.P50 / pages.Healthz.P50:0}x / {r.Page.P95 / pages.Healthz.P95:0}x | p95 < {PageTarget.TotalMilliseconds:0} ms: {Met(r.Page.P95 < PageTarget.TotalMilliseconds)} |"));
            }
            foreach (var r in pages.Ranges)
            {
                report.WriteLine(Invariant($"| IDashboardData.HostAsync {r.Range} alone (n={r.Query.Count}) | {r.Query.P50:0} ms | {r.Query.P95:0} ms | {r.Query.Max:0} ms | /api/hosts {pages.ApiHosts.P50:0.0} / {pages.ApiHosts.P95:0.0} ms | {r.Query.P50 / pages.ApiHosts.P50:0.0}x / {r.Query.P95 / pages.ApiHosts.P95:0.0}x | (part of the page's) |"));
            }
        }
        else
        {
            report.WriteLine("| host page server time | not measured | | | | | |");
        }
        if (history is not null)
        {
            report.WriteLine(Invariant($"| history generation | {history.Snapshots:N0} snapshots in {history.Elapsed.TotalMinutes:0.0} min | | | | | |"));
        }
    }

    private static string Met(bool met) => met ? "MET" : "NOT MET";

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
