using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Fleet.Agent.Simulation;
using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Fleet.Dashboard.Benchmarks;

/// <summary>What the live measurement found: per timed snapshot, stream write to page change, and stream write to Ack.</summary>
internal sealed record LiveResult(string HostName, Stats Page, Stats Ack, Stats Ratio, int Timed, int NotShown, int ShownByCloseWaitOnly);

/// <summary>
/// A simulated host's snapshots streamed over real gRPC (the raw generated client: Hello, Welcome, Snapshots,
/// Acks) to the real server while Chromium shows its host page with range=15m. For each snapshot t0 is taken just
/// before it is written to the stream; its Ack (stored and committed) and the page's change are timestamped with
/// the same Stopwatch: a MutationObserver in the page calls an exposed function the moment the
/// <c>last-snapshot</c> data-sequence (or the <c>host-close-wait</c> data-value) changes, so t1 has no polling delay
/// (it includes the page-to-runner callback, a few ms over the DevTools pipe).
/// </summary>
internal static class LiveLatency
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private const string Observer = """
        (() => {
          let seq = null, cw = null;
          const check = () => {
            const s = document.querySelector('[data-testid="last-snapshot"]');
            const v = s ? s.getAttribute('data-sequence') : null;
            if (v !== null && v !== seq) { seq = v; window.fleetBenchSeen('seq:' + v); }
            const c = document.querySelector('[data-testid="host-close-wait"]');
            const w = c ? c.getAttribute('data-value') : null;
            if (w !== null && w !== cw) { cw = w; window.fleetBenchSeen('cw:' + w); }
          };
          const start = () => {
            new MutationObserver(check).observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
            check();
          };
          if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
        })();
        """;

    public static async Task<LiveResult> RunAsync(BenchServer server, Uri http, Uri grpc, BenchmarkOptions options, TextWriter progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var (token, hash) = EnrollmentTokens.Create();
        await server.Services.GetRequiredService<IIngestStore>().AddTokenAsync("dashboard-live", hash, ct);
        int index = options.Hosts < 900 ? 900 : options.Hosts + 1;
        var host = new SimulatedHost(options.Seed, index, DateTimeOffset.UtcNow - TimeSpan.FromHours(1));

        var acks = new Moments();
        var shown = new Moments();
        var byCloseWait = new ConcurrentDictionary<ulong, ulong>();
        var shownBySequence = new ConcurrentDictionary<ulong, bool>();
        int rejected = 0;
        string? rejection = null;

        using var channel = GrpcChannel.ForAddress(grpc);
        var client = new AgentIngest.AgentIngestClient(channel);
        using var call = client.Connect(cancellationToken: ct);
        var first = host.Next(DateTimeOffset.UtcNow);
        await call.RequestStream.WriteAsync(new AgentMessage
        {
            Hello = new Hello
            {
                Host = first.Host,
                EnrollmentToken = token,
                AgentVersion = first.Host.AgentVersion,
                ContractVersion = first.ContractVersion,
                AgentId = "dash-bench-live",
            },
        }, ct);
        if (!await call.ResponseStream.MoveNext(ct) || call.ResponseStream.Current.BodyCase != ServerMessage.BodyOneofCase.Welcome)
        {
            throw new InvalidOperationException("the server did not answer Hello with Welcome");
        }
        ulong sequence = call.ResponseStream.Current.Welcome.LastCommittedSequence;
        var reader = Task.Run(async () =>
        {
            while (await call.ResponseStream.MoveNext(ct))
            {
                var message = call.ResponseStream.Current;
                if (message.BodyCase == ServerMessage.BodyOneofCase.Ack)
                {
                    acks.Record(message.Ack.Sequence, clock.Elapsed);
                }
                else if (message.BodyCase == ServerMessage.BodyOneofCase.Rejection)
                {
                    Interlocked.Increment(ref rejected);
                    rejection = $"{message.Rejection.Field}: {message.Rejection.Reason}";
                }
            }
        }, ct);

        ulong previousTotal = 0;
        var sent = new Dictionary<ulong, TimeSpan>();
        async Task<ulong> SendAsync()
        {
            var snapshot = host.Next(DateTimeOffset.UtcNow);
            snapshot.Sequence = ++sequence;
            // A changed CLOSE_WAIT figure every time: the host total (services' plus unowned sockets) strictly rises.
            ulong services = (ulong)snapshot.Services.Sum(s => (long)(s.Tcp?.CloseWait ?? 0));
            snapshot.UnownedTcp ??= new TcpStates();
            ulong wanted = previousTotal == 0 ? services + 100 : previousTotal + 1 + (snapshot.Sequence % 3);
            snapshot.UnownedTcp.CloseWait = wanted > services ? wanted - services : 0;
            previousTotal = services + snapshot.UnownedTcp.CloseWait;
            byCloseWait[previousTotal] = snapshot.Sequence;
            var message = new AgentMessage { Snapshot = snapshot };
            var t0 = clock.Elapsed;
            await call.RequestStream.WriteAsync(message, ct);
            sent[snapshot.Sequence] = t0;
            return snapshot.Sequence;
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
        // The host page needs a signed-in user: the browser starts with the session the benchmark's client signed in.
        var cookies = new System.Net.CookieContainer();
        using (var signIn = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = http, Timeout = TimeSpan.FromSeconds(60) })
        {
            await server.SignInAsync(signIn, ct);
        }
        var context = await browser.NewContextAsync();
        await context.AddCookiesAsync([.. BenchServer.CookiesOf(cookies, http).Select(c => new Cookie { Name = c.Name, Value = c.Value, Url = http.ToString() })]);
        var page = await context.NewPageAsync();
        await page.ExposeFunctionAsync("fleetBenchSeen", (string what) =>
        {
            var at = clock.Elapsed;
            string[] parts = what.Split(':', 2);
            if (!ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong value))
            {
                return;
            }
            if (parts[0] == "seq")
            {
                shownBySequence[value] = true;
                shown.Record(value, at);
            }
            else if (byCloseWait.TryGetValue(value, out ulong seq))
            {
                shown.Record(seq, at);
            }
        });
        await page.AddInitScriptAsync(Observer);

        // The host exists once its first snapshot is stored; then the page is opened and warmed up.
        ulong firstSequence = await SendAsync();
        await acks.WaitAsync(firstSequence, Deadline, "the Ack of the first live snapshot", ct);
        string url = new Uri(http, $"hosts/{host.Hostname}?range=15m").ToString();
        progress.WriteLine($"live: {host.Hostname} streams over gRPC to {grpc}; Chromium shows {url}");
        IResponse? response;
        try
        {
            response = await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.Load, Timeout = (float)Deadline.TotalMilliseconds });
        }
        catch (PlaywrightException e)
        {
            throw new InvalidOperationException($"the host page {url} did not load: {e.Message.Split('\n')[0]}", e);
        }
        if (response is null || !response.Ok)
        {
            throw new InvalidOperationException($"GET {url} answered {response?.Status.ToString(CultureInfo.InvariantCulture) ?? "nothing"}");
        }
        var random = new Random(options.Seed);
        ulong lastWarmUp = 0;
        for (int i = 0; i < options.LiveWarmup; i++)
        {
            lastWarmUp = await SendAsync();
            await Task.Delay(random.Next(options.IntervalMinMs, options.IntervalMaxMs + 1), ct);
        }
        await shown.WaitAsync(lastWarmUp, Deadline,
            "the host page to show a live snapshot (data-testid=\"last-snapshot\" data-sequence or data-testid=\"host-close-wait\" data-value)", ct);

        progress.WriteLine(Invariant($"live: warmed up with {options.LiveWarmup} snapshots; timing {options.LiveSnapshots} more, one every {options.IntervalMinMs}-{options.IntervalMaxMs} ms"));
        var timed = new List<ulong>(options.LiveSnapshots);
        for (int i = 0; i < options.LiveSnapshots; i++)
        {
            timed.Add(await SendAsync());
            await Task.Delay(random.Next(options.IntervalMinMs, options.IntervalMaxMs + 1), ct);
        }
        await acks.WaitAsync(timed[^1], Deadline, "the Ack of the last live snapshot", ct);
        try
        {
            await shown.WaitAsync(timed[^1], TimeSpan.FromSeconds(10), "the page to show the last live snapshot", ct);
        }
        catch (TimeoutException)
        {
            // Counted below as not shown.
        }
        await call.RequestStream.CompleteAsync();
        await reader.WaitAsync(Deadline, ct);
        if (rejected > 0)
        {
            throw new InvalidOperationException($"the server rejected {rejected} live snapshot(s), for example {rejection}");
        }

        var pageTimes = new List<TimeSpan>();
        var ackTimes = new List<TimeSpan>();
        var ratios = new List<TimeSpan>();
        int notShown = 0;
        foreach (ulong seq in timed)
        {
            var t0 = sent[seq];
            var ack = acks.Get(seq) ?? throw new InvalidOperationException($"live snapshot {seq} was not acknowledged");
            ackTimes.Add(ack - t0);
            if (shown.Get(seq) is { } t1)
            {
                pageTimes.Add(t1 - t0);
                // Page time per Ack time of the same snapshot, as a "duration" of ratio x 1 ms for the statistics.
                ratios.Add(TimeSpan.FromMilliseconds((t1 - t0) / (ack - t0)));
            }
            else
            {
                notShown++;
            }
        }
        int byCloseWaitOnly = timed.Count(s => shown.Get(s) is not null && !shownBySequence.ContainsKey(s));
        return new LiveResult(host.Hostname, Stats.Of(pageTimes), Stats.Of(ackTimes), Stats.Of(ratios), timed.Count, notShown, byCloseWaitOnly);
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>The first moment each sequence was seen, with waits for one.</summary>
    private sealed class Moments
    {
        private readonly ConcurrentDictionary<ulong, TaskCompletionSource<TimeSpan>> _moments = new();

        public void Record(ulong sequence, TimeSpan at) => Slot(sequence).TrySetResult(at);

        public TimeSpan? Get(ulong sequence) =>
            _moments.TryGetValue(sequence, out var slot) && slot.Task.IsCompletedSuccessfully ? slot.Task.Result : null;

        public async Task WaitAsync(ulong sequence, TimeSpan deadline, string what, CancellationToken ct)
        {
            try
            {
                await Slot(sequence).Task.WaitAsync(deadline, ct);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"waited {deadline.TotalSeconds:0} s for {what} (sequence {sequence})");
            }
        }

        private TaskCompletionSource<TimeSpan> Slot(ulong sequence) =>
            _moments.GetOrAdd(sequence, _ => new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
