using Fleet.Server.Snapshots;
using Fleet.Server.Storage;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fleet.Server.Tests.Snapshots;

/// <summary>
/// Making a snapshot holds its whole document in memory, so the store makes one at a time: a second request waits
/// until the first is done instead of adding its memory to the first's. Nothing here reaches PostgreSQL: the host
/// reads (the first thing a snapshot does) are held by a fake until the test lets them go.
/// </summary>
public sealed class SnapshotConcurrencyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static readonly DateTimeOffset To = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private static SnapshotRequest Request(string title) =>
        new(title, "", SnapshotOrigin.Host, ["alpha"], null, To.AddHours(-1), To);

    /// <summary>The store over the held host reads; its database is never reached.</summary>
    private static PostgresIncidentSnapshots Store(NpgsqlDataSource dataSource, HeldDashboard dashboard) =>
        new(new NoContexts(), dataSource, dashboard, new NoAlerts(), TimeProvider.System, Options.Create(new SnapshotOptions()));

    [Fact]
    public async Task ASecondSnapshot_WaitsUntilTheFirstIsDone_ThenIsMade()
    {
        var dashboard = new HeldDashboard();
        await using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Database=unused");
        using var store = Store(dataSource, dashboard);

        var first = store.CreateAsync(Request("first"), "tester", CancellationToken.None);
        await dashboard.FirstRead.Task.WaitAsync(Timeout);
        var second = store.CreateAsync(Request("second"), "tester", CancellationToken.None);

        // Without the turn-taking the second request would have read its host by now (the read is its first step).
        Assert.Equal(1, dashboard.Reads);
        Assert.False(second.IsCompleted);

        dashboard.Release.SetResult();
        // The fake knows no host, so each is refused naming it; the second ran only once the first was done.
        var firstError = await Assert.ThrowsAsync<SnapshotRefusedException>(() => first.WaitAsync(Timeout));
        var secondError = await Assert.ThrowsAsync<SnapshotRefusedException>(() => second.WaitAsync(Timeout));
        Assert.Equal(2, dashboard.Reads);
        Assert.Contains("hosts: no host named 'alpha'", firstError.Errors[0], StringComparison.Ordinal);
        Assert.Contains("hosts: no host named 'alpha'", secondError.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWaitingSnapshot_CanBeCancelled_AndTheNextOneStillRuns()
    {
        var dashboard = new HeldDashboard();
        await using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Database=unused");
        using var store = Store(dataSource, dashboard);

        var first = store.CreateAsync(Request("first"), "tester", CancellationToken.None);
        await dashboard.FirstRead.Task.WaitAsync(Timeout);
        using var cancel = new CancellationTokenSource();
        var waiting = store.CreateAsync(Request("gave up"), "tester", cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Timeout));

        dashboard.Release.SetResult();
        await Assert.ThrowsAsync<SnapshotRefusedException>(() => first.WaitAsync(Timeout));
        await Assert.ThrowsAsync<SnapshotRefusedException>(() => store.CreateAsync(Request("next"), "tester", CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(2, dashboard.Reads);
    }

    /// <summary>Host reads wait for <see cref="Release"/>, then find no host.</summary>
    private sealed class HeldDashboard : IDashboardData
    {
        private int _reads;

        public TaskCompletionSource FirstRead { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Reads => Volatile.Read(ref _reads);

        public async Task<HostView?> HostAsync(string hostName, TimeWindow window, CancellationToken ct)
        {
            Interlocked.Increment(ref _reads);
            FirstRead.TrySetResult();
            await Release.Task.WaitAsync(ct);
            return null;
        }

        public Task<FleetOverview> OverviewAsync(CancellationToken ct) => throw new NotSupportedException();

        public Task<HostDetail?> HostDetailAsync(string hostName, TimeWindow window, CancellationToken ct) => throw new NotSupportedException();

        public Task<ServiceView?> ServiceAsync(string serviceName, TimeWindow window, CancellationToken ct) => throw new NotSupportedException();
    }

    private sealed class NoContexts : IDbContextFactory<FleetDbContext>
    {
        public FleetDbContext CreateDbContext() => throw new NotSupportedException("no database in this test");
    }

    private sealed class NoAlerts : IAlertData
    {
        public Task<IReadOnlyList<AlertView>> ActiveAsync(string? hostName, CancellationToken ct) => throw new NotSupportedException();

        public Task<IReadOnlyList<AlertView>> HistoryAsync(AlertHistoryQuery query, CancellationToken ct) => throw new NotSupportedException();
    }
}
