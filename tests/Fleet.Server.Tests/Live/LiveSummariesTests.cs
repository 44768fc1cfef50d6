using Fleet.Contracts.V1;
using Fleet.Server.Live;
using Fleet.Server.Tests.Ingest;

namespace Fleet.Server.Tests.Live;

public sealed class LiveSummariesTests
{
    private static readonly DateTimeOffset StoredAt = new(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Summarize_TotalsServicesAndUnownedCloseWait_AndPicksTheWorstService()
    {
        var snapshot = TestSnapshots.Valid(3, StoredAt.AddSeconds(-1));
        snapshot.UnownedTcp.CloseWait = 4;
        snapshot.Services.Add(new Service
        {
            Name = "db",
            ProcessCount = 1,
            OpenFds = 900,
            Tcp = new TcpStates { CloseWait = 5 },
            WorstPid = 7,
            WorstOpenFds = 900,
            WorstNofileSoft = 1000,
            WorstNofileHard = 4096,
            WorstSoftLimitPercent = 90,
        });

        var summary = LiveSummaries.Summarize(snapshot, "web-1", StoredAt);

        // app: 3 processes x 2 CLOSE_WAIT; db: 5; unowned: 4.
        Assert.Equal(6ul + 5 + 4, summary.Host.CloseWait);
        Assert.Equal(360ul + 900, summary.Host.OpenFds);
        Assert.Equal("db", summary.Host.WorstService);
        Assert.Equal(100ul, summary.Host.WorstHeadroomFds);
        Assert.Equal(60_999ul - 32_768 + 1, summary.Host.EphemeralPortRange);
        Assert.Equal(StoredAt.AddSeconds(-1), summary.Host.CollectedAt);
        Assert.Equal(["app", "db"], summary.Services.Select(s => s.Name));
    }

    [Fact]
    public void Summarize_JudgesWorstServiceAndHeadroomAsStorageDoes_SkippingUnreadableServicesAndUsingNrOpenWhenUnlimited()
    {
        var snapshot = TestSnapshots.Valid(3, StoredAt.AddSeconds(-1));
        snapshot.Services.Clear();
        // All its processes unreadable: its figures are not known, so it is never the worst.
        snapshot.Services.Add(new Service { Name = "hidden", ProcessCount = 2, UnreadableProcessCount = 2, WorstSoftLimitPercent = 99, WorstOpenFds = 990, WorstNofileSoft = 1000 });
        // Unlimited soft limit: the headroom runs to fs.nr_open.
        snapshot.Services.Add(new Service { Name = "unbounded", ProcessCount = 1, WorstSoftLimitPercent = 0, WorstOpenFds = 48_576, WorstNofileSoft = ulong.MaxValue });

        var summary = LiveSummaries.Summarize(snapshot, "web-1", StoredAt);

        Assert.Equal("unbounded", summary.Host.WorstService);
        Assert.Equal(snapshot.System.NrOpen - 48_576, summary.Host.WorstHeadroomFds);
    }

    [Fact]
    public void Summarize_WritesIpv6RemotesInBrackets_LargestFirst_AndBounded()
    {
        var snapshot = TestSnapshots.Valid(1);
        var service = snapshot.Services[0];
        service.CloseWaitRemotes.Clear();
        for (uint i = 0; i < LiveSummaries.MaxRemotesPerService + 5; i++)
        {
            service.CloseWaitRemotes.Add(new RemoteEndpointCount { Address = i % 2 == 0 ? "10.0.3.7" : "2001:db8::1", Port = 1000 + i, Count = i + 1 });
        }

        var remotes = LiveSummaries.Summarize(snapshot, "web-1", StoredAt).Services[0].CloseWaitRemotes;

        Assert.Equal(LiveSummaries.MaxRemotesPerService, remotes.Count);
        Assert.Equal("10.0.3.7:1024", remotes[0].Remote);
        Assert.Equal(25ul, remotes[0].Count);
        Assert.Equal("[2001:db8::1]:1023", remotes[1].Remote);
    }

    [Fact]
    public void Summarize_HostWithoutServices_HasNoWorstServiceAndZeroHeadroom()
    {
        var snapshot = TestSnapshots.Valid(1, processes: 0);
        snapshot.Services.Clear();

        var summary = LiveSummaries.Summarize(snapshot, "web-1", StoredAt);

        Assert.Null(summary.Host.WorstService);
        Assert.Equal(0ul, summary.Host.WorstHeadroomFds);
        Assert.Empty(summary.Services);
    }
}
