using Fleet.Web.Compare;
using Fleet.Web.Data;
using static Fleet.Web.Tests.Compare.CompareSamples;

namespace Fleet.Web.Tests.Compare;

public sealed class KnownTroubleTests
{
    private static IReadOnlyList<TroubleFinding> Find(SystemHeadroom system, params (ServiceRow Row, ProcessRow Process)[] services) =>
        KnownTrouble.Find(Detail("web-1", system, services), "web-1", null);

    [Fact]
    public void HealthyDefaults_RaiseNothing()
    {
        Assert.Empty(Find(Kernel(), Service("api", 65_536, 524_288, 900, tcp: 400)));
    }

    [Fact]
    public void LowSoftNofile_OnABusyService_NamesTheWorstProcesssFds()
    {
        var findings = Find(Kernel(), Service("orders-api", 1024, 1024, 870));

        var f = Assert.Single(findings);
        Assert.Equal(HostSettings.NofileSoft, f.Key);
        Assert.Equal(TroubleSeverity.Critical, f.Severity);
        Assert.Equal("soft nofile 1024 on orders-api: worst process at 870 fds (85%)", f.Message);
    }

    [Fact]
    public void LowSoftNofile_IsAWarning_BelowTheCriticalShare()
    {
        ulong fds = (ulong)(1024 * KnownTrouble.BusyShareOfSoft) + 1;
        var f = Assert.Single(Find(Kernel(), Service("api", 1024, 1024, fds)));
        Assert.Equal(TroubleSeverity.Warning, f.Severity);
    }

    [Fact]
    public void LowSoftNofile_OnAServiceWithManyTcpSockets_IsRaisedEvenWhenItsFdsAreLow()
    {
        var f = Assert.Single(Find(Kernel(), Service("api", 1024, 1024, 100, tcp: KnownTrouble.ManyTcpSockets)));
        Assert.Contains($"{KnownTrouble.ManyTcpSockets} TCP sockets", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LowSoftNofile_OnAnIdleService_IsNotRaised()
    {
        Assert.Empty(Find(Kernel(), Service("api", 1024, 1024, (ulong)(1024 * KnownTrouble.BusyShareOfSoft), tcp: KnownTrouble.ManyTcpSockets - 1)));
    }

    [Fact]
    public void SoftFarBelowHard_WithSomeUse_SaysItCanBeRaisedWithoutRoot()
    {
        ulong soft = 4096, hard = soft * KnownTrouble.SoftFarBelowHardFactor;
        var f = Assert.Single(Find(Kernel(), Service("api", soft, hard, (ulong)(soft * KnownTrouble.SoftFarBelowHardUsedShare))));
        Assert.Equal(TroubleSeverity.Warning, f.Severity);
        Assert.Contains("without root", f.Message, StringComparison.Ordinal);
        Assert.Contains($"{hard}", f.Message, StringComparison.Ordinal);

        Assert.Empty(Find(Kernel(), Service("api", soft, hard - 1, soft / 2)));
        Assert.Empty(Find(Kernel(), Service("api", soft, hard, 10)));
    }

    [Fact]
    public void HardAboveNrOpen_IsRaised()
    {
        var f = Assert.Single(Find(Kernel() with { NrOpen = 65_536 }, Service("api", 65_536, 131_072, 10)));
        Assert.Equal(HostSettings.NofileHard, f.Key);
        Assert.Contains("131072", f.Message, StringComparison.Ordinal);
        Assert.Contains("65536", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NarrowPortRange_IsRaised_AndTheDefaultRangeIsNot()
    {
        uint low = 40000, high = (uint)(low + KnownTrouble.NarrowPortRange - 2);
        var f = Assert.Single(Find(Kernel() with { EphemeralPortLow = low, EphemeralPortHigh = high }));
        Assert.Equal(HostSettings.PortRange, f.Key);
        Assert.Contains($"{low}–{high}", f.Message, StringComparison.Ordinal);

        Assert.Empty(Find(Kernel() with { EphemeralPortLow = low, EphemeralPortHigh = (uint)(low + KnownTrouble.NarrowPortRange - 1) }));
    }

    [Fact]
    public void PortsInUseAboveTheShare_IsCritical()
    {
        var system = Kernel();
        ulong range = system.EphemeralPortRange;
        ulong inUse = (ulong)(range * KnownTrouble.PortsUsedShare) + 1;
        var f = Assert.Single(Find(system with { EphemeralPortsInUse = inUse }));
        Assert.Equal(TroubleSeverity.Critical, f.Severity);
        Assert.Contains($"{inUse} of {range}", f.Message, StringComparison.Ordinal);

        Assert.Empty(Find(system with { EphemeralPortsInUse = (ulong)(range * KnownTrouble.PortsUsedShare) }));
    }

    [Fact]
    public void TwReuseOff_WithManyTimeWait_IsRaised_AndNotWhenReuseIsOn()
    {
        var system = Kernel();
        ulong many = (ulong)Math.Ceiling(system.EphemeralPortRange * KnownTrouble.TimeWaitShareOfRange);
        var f = Assert.Single(Find(system with { TcpTwReuse = 0, TcpTimeWait = many }));
        Assert.Equal(HostSettings.TwReuse, f.Key);

        Assert.Empty(Find(system with { TcpTwReuse = 1, TcpTimeWait = many }));
        Assert.Empty(Find(system with { TcpTwReuse = 0, TcpTimeWait = many - 1 }));
    }

    [Fact]
    public void Conntrack_SmallOrFull_IsRaised_AndAbsentIsNot()
    {
        var small = Assert.Single(Find(Kernel() with { ConntrackMax = KnownTrouble.SmallConntrackMax - 1, ConntrackCount = 10 }));
        Assert.Equal(TroubleSeverity.Warning, small.Severity);

        ulong max = 1_000_000;
        var full = Assert.Single(Find(Kernel() with { ConntrackMax = max, ConntrackCount = (ulong)(max * KnownTrouble.ConntrackUsedShare) + 1 }));
        Assert.Equal(TroubleSeverity.Critical, full.Severity);

        Assert.Empty(Find(Kernel() with { ConntrackPresent = false, ConntrackMax = 1000, ConntrackCount = 1000 }));
    }

    [Fact]
    public void Orphans_AboveTheShareOfTheMax_AreRaised()
    {
        var f = Assert.Single(Find(Kernel() with { TcpMaxOrphans = 1000, TcpOrphans = (ulong)(1000 * KnownTrouble.OrphansUsedShare) + 1 }));
        Assert.Equal(HostSettings.MaxOrphans, f.Key);
        Assert.Empty(Find(Kernel() with { TcpMaxOrphans = 1000, TcpOrphans = (ulong)(1000 * KnownTrouble.OrphansUsedShare) }));
    }

    [Fact]
    public void FileMaxUsedAboveTheShare_IsCritical()
    {
        var f = Assert.Single(Find(Kernel() with { FileHandlesMax = 100_000, FileHandlesAllocated = (ulong)(100_000 * KnownTrouble.FileHandlesUsedShare) + 1 }));
        Assert.Equal(HostSettings.FileMax, f.Key);
        Assert.Equal(TroubleSeverity.Critical, f.Severity);
    }

    [Fact]
    public void InotifyAtTheDefault_WithAUserNearIt_IsRaised_AndARaisedLimitIsNot()
    {
        ulong near = (ulong)Math.Ceiling(KnownTrouble.DefaultInotifyInstances * KnownTrouble.InotifyNearShare);
        var f = Assert.Single(Find(Kernel() with { InotifyByUser = [new UserInotify(1000, 2), new UserInotify(33, near)] }));
        Assert.Contains($"uid 33 holds {near}", f.Message, StringComparison.Ordinal);

        Assert.Empty(Find(Kernel() with { InotifyMaxUserInstances = 1024, InotifyByUser = [new UserInotify(33, near)] }));
        Assert.Empty(Find(Kernel() with { InotifyByUser = [new UserInotify(33, near - 1)] }));
    }

    [Fact]
    public void ServiceFilter_LeavesOtherServicesOut_ButKeepsTheHostsSettings()
    {
        var detail = Detail("web-1", Kernel() with { ConntrackMax = 1000 }, Service("api", 1024, 1024, 900), Service("db", 1024, 1024, 900, pid: 2));

        var findings = KnownTrouble.Find(detail, "db on web-1", "db");

        Assert.Contains(findings, f => f.Message.Contains("on db", StringComparison.Ordinal));
        Assert.DoesNotContain(findings, f => f.Message.Contains("on api", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Key == HostSettings.ConntrackMax);
        Assert.All(findings, f => Assert.Equal("db on web-1", f.Subject));
    }
}
