using System.Diagnostics;
using Fleet.Browser.Tests.Browsing;
using Fleet.Browser.Tests.Hosting;
using Fleet.Browser.Tests.Leaking;
using Fleet.Server.Tests.EndToEnd;
using Fleet.Server.Tests.Infrastructure;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Fleet.Browser.Tests;

/// <summary>
/// Shared by the browser tests of one class: a database on the private PostgreSQL cluster, the real server with
/// its in-process agent collecting this machine every second, and one headless Chromium. Each test opens its own
/// browser context (<see cref="OpenPageAsync"/>) and its own CLOSE_WAIT leaker (<see cref="StartLeaker"/>).
/// One user per role is created through the server's <see cref="IUserAdmin"/> and signed in once through the real
/// /signin form; a test's page starts with that user's session cookie (the sign-in form is rate limited per address).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes a fixture through IAsyncLifetime.DisposeAsync")]
public class DashboardFixture : IAsyncLifetime
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly string[] PageCategories =
        ["Microsoft.AspNetCore.Components", "Fleet.Web", "Fleet.Server.Dashboard", "Fleet.Server.Live"];

    private readonly string _agentState = Path.Combine(Path.GetTempPath(), $"fleet-browser-agent-{Guid.NewGuid():N}");
    private TestDatabase? _database;
    private DashboardServer? _server;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private readonly Dictionary<string, string> _sessions = [];
    private int _disposed;

    /// <summary>The password of the users the fixture creates (long enough for the server's rule).</summary>
    internal const string Password = "browser-test-password";

    /// <summary>Whether the fixture creates a user per role on start (a first run has none: <see cref="FirstRunFixture"/>).</summary>
    protected virtual bool CreatesUsers => true;

    /// <summary>The user of each role, created on start.</summary>
    internal static string UserOf(string role) => $"{role}-browser";

    /// <summary>Unique to this run: only the leaker's command line holds it, so only the leaker is grouped as leaky-client.</summary>
    internal string LeakerMarker { get; } = $"fleet-leaky-{Guid.NewGuid():N}"[..20];

    internal LogSink Logs { get; } = new();

    /// <summary>This machine's name as the agent reports it (/proc/sys/kernel/hostname).</summary>
    public string HostName { get; } = File.ReadAllText("/proc/sys/kernel/hostname").Trim();

    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        try
        {
            // The browser first: without Chromium nothing else is worth starting.
            (_playwright, _browser) = await DebianChromium.LaunchAsync().WaitAsync(Deadline);
            _database = await PostgresServer.CreateDatabaseAsync("browser").WaitAsync(Deadline);
            _server = new DashboardServer(_database.ConnectionString, _agentState, LeakerMarker, Logs);
            BaseAddress = await Task.Run(_server.Start).WaitAsync(Deadline);
            var users = _server.Services.GetRequiredService<IUserAdmin>();
            foreach (var role in CreatesUsers ? FleetRoles.All : [])
            {
                await users.CreateAsync(UserOf(role), Password, role, "browser fixture", CancellationToken.None).WaitAsync(Deadline);
                _sessions[role] = await SignInThroughTheFormAsync(UserOf(role)).WaitAsync(Deadline);
            }
        }
        catch
        {
            // Whatever did start is stopped: a failed start leaves no browser, server or database behind.
            await DisposeAsync();
            throw;
        }
        Logs.Note($"server up at {BaseAddress} after {clock.Elapsed.TotalSeconds:F1} s; host {HostName}; leaker marker {LeakerMarker}");
    }

    /// <summary>A fresh browser context and page signed in with <paramref name="role"/> (null: nobody), recording console errors and loads.</summary>
    internal Task<ObservedPage> OpenPageAsync(string? role = FleetRoles.Admin) =>
        ObservedPage.OpenAsync(_browser!, BaseAddress, role is null ? null : _sessions[role]);

    /// <summary>Signs <paramref name="userName"/> in through the real /signin form and returns the browser's session (its cookies).</summary>
    private async Task<string> SignInThroughTheFormAsync(string userName)
    {
        await using var page = await ObservedPage.OpenAsync(_browser!, BaseAddress);
        await page.SignInAsync(userName, Password);
        await page.Page.WaitForURLAsync(url => !url.Contains(AccountRoutes.SignInPage, StringComparison.Ordinal));
        page.AssertNoErrors();
        return await page.StorageStateAsync();
    }

    /// <summary>A CLOSE_WAIT leaker grouped as <see cref="DashboardServer.LeakyService"/>: one socket every 300 ms, at most <paramref name="max"/>.</summary>
    internal CloseWaitLeaker StartLeaker(int max)
    {
        var leaker = CloseWaitLeaker.Start(LeakerMarker, max, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(120));
        Logs.Note($"leaker pid {leaker.ProcessId} toward 127.0.0.1:{leaker.Port}, at most {max} sockets");
        return leaker;
    }

    /// <summary>
    /// Errors logged so far by what serves the pages: Blazor's circuits, the UI, its data and live feed. Not counted:
    /// a JS interop call refused because the circuit "has disconnected and is being disposed" (a render still in
    /// flight when a test's browser context closed, so after the user left; seen about once in 15 runs).
    /// </summary>
    internal IReadOnlyList<string> PageServerErrors() =>
        Logs.Entries
            .Where(e => e.Level >= LogLevel.Error
                && PageCategories.Any(c => e.Category.StartsWith(c, StringComparison.Ordinal))
                && e.Exception is not Microsoft.JSInterop.JSDisconnectedException)
            .Select(e => $"{e.Category}: {e.Message} {e.Exception}")
            .ToList();

    /// <summary>The server's and the test's log lines, for a failing test's output.</summary>
    internal void WriteLogsTo(ITestOutputHelper output) => Logs.WriteTo(output);

    public async Task DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        var problems = new List<Exception>();
        async Task Try(Func<Task> step)
        {
            try
            {
                await step().WaitAsync(Deadline);
            }
            catch (Exception e)
            {
                problems.Add(e);
            }
        }
        if (_browser is not null)
        {
            await Try(() => _browser.CloseAsync());
        }
        _playwright?.Dispose();
        if (_server is not null)
        {
            await Try(() => _server.DisposeAsync().AsTask());
        }
        if (_database is not null)
        {
            await Try(() => _database.DisposeAsync().AsTask());
        }
        if (Directory.Exists(_agentState))
        {
            await Try(() => Task.Run(() => Directory.Delete(_agentState, recursive: true)));
        }
        // The whole run's server and test log, including what happened while shutting down, as an artifact.
        var log = new TextOutput();
        Logs.WriteTo(log);
        await File.WriteAllTextAsync(Path.Combine(RepositoryPaths.TestResults, "browser-tests-server.log"), log.ToString());
        if (problems.Count > 0)
        {
            throw new AggregateException("tearing the browser fixture down failed", problems);
        }
    }
}

/// <summary>The server on its first run: no user yet, so it logs the one-time link that creates the first administrator.</summary>
public sealed class FirstRunFixture : DashboardFixture
{
    protected override bool CreatesUsers => false;
}

/// <summary>Collects what <see cref="LogSink.WriteTo"/> writes, for a file.</summary>
internal sealed class TextOutput : ITestOutputHelper
{
    private readonly System.Text.StringBuilder _text = new();

    public void WriteLine(string message) => _text.AppendLine(message);

    public void WriteLine(string format, params object[] args) =>
        _text.AppendLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

    public override string ToString() => _text.ToString();
}
