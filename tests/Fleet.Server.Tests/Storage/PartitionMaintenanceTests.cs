namespace Fleet.Server.Tests.Storage;

public sealed class PartitionMaintenanceTests(StorageHarness harness) : IClassFixture<StorageHarness>
{
    private static readonly TimeSpan Timeout = StorageHarness.Timeout;

    private Task<bool> ExistsAsync(string table) =>
        harness.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname = $1", table).ContinueWith(t => t.Result == 1, TaskScheduler.Default);

    [Fact]
    public async Task Maintain_WithADayPastRawRetention_DropsItsRawPartitionsAndKeepsTheRetainedDaysAndRollups()
    {
        // Today is 2030-03-15 and raw samples are kept 14 days: 2030-03-01 is the oldest day kept.
        harness.Clock.Now = StorageHarness.Start;
        await harness.Partitions.EnsureDayAsync(new DateOnly(2030, 2, 28), CancellationToken.None).AsTask().WaitAsync(Timeout);
        await harness.Partitions.EnsureDayAsync(new DateOnly(2030, 3, 1), CancellationToken.None).AsTask().WaitAsync(Timeout);
        await harness.ExecuteAsync("INSERT INTO rollup_queue (host_id, minute) VALUES (1, '2030-02-28 10:00:00+00')");

        var changes = await harness.Partitions.MaintainAsync(CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(
            ["close_wait_samples_p20300228", "host_samples_p20300228", "process_samples_p20300228", "service_samples_p20300228"],
            changes.Dropped.Order(StringComparer.Ordinal));
        Assert.False(await ExistsAsync("service_samples_p20300228"));
        Assert.True(await ExistsAsync("service_samples_p20300301"));
        Assert.True(await ExistsAsync("service_rollup_1m_p20300228"));
        Assert.True(await ExistsAsync("service_rollup_1h_p203002"));
        // The rollup drops a bucket whose raw day is gone instead of failing on it forever.
        var result = await harness.Rollups.RollUpMinutesAsync(CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(0, result.ServiceRows);
        Assert.Equal(0L, await harness.ScalarAsync<long>("SELECT count(*) FROM rollup_queue"));
    }

    [Fact]
    public async Task Maintain_WhenTheClockMovesOn_MakesTheNewDaysAheadAndDropsExpiredPartitionsOfEveryKind()
    {
        try
        {
            // 450 days later: 2031-06-08. Raw (14 days), minute (30 days) and hour rollups (400 days) all expired.
            harness.Clock.Now = StorageHarness.Start.AddDays(450);

            var changes = await harness.Partitions.MaintainAsync(CancellationToken.None).WaitAsync(Timeout);

            foreach (string table in new[] { "service_samples", "process_samples", "close_wait_samples", "host_samples", "service_rollup_1m", "host_rollup_1m" })
            {
                Assert.Contains($"{table}_p20300315", changes.Dropped);
                Assert.Contains($"{table}_p20310608", changes.Created);
                Assert.Contains($"{table}_p20310611", changes.Created);
                Assert.DoesNotContain($"{table}_p20310612", changes.Created);
            }
            Assert.Contains("service_rollup_1h_p203003", changes.Dropped);
            Assert.Contains("host_rollup_1h_p203106", changes.Created);
            Assert.Empty(changes.Failed);
            Assert.True(await ExistsAsync("host_samples_p20310611"));
            Assert.False(await ExistsAsync("host_rollup_1h_p203003"));
            var again = await harness.Partitions.MaintainAsync(CancellationToken.None).WaitAsync(Timeout);
            Assert.Empty(again.Created);
            Assert.Empty(again.Dropped);
        }
        finally
        {
            harness.Clock.Now = StorageHarness.Start;
        }
    }
}
