using Fleet.Web.Compare;
using Fleet.Web.Data;
using static Fleet.Web.Tests.Compare.CompareSamples;

namespace Fleet.Web.Tests.Compare;

public sealed class DriftTests
{
    private static readonly DateTimeOffset At = Start + TimeSpan.FromHours(1);

    [Fact]
    public void AServiceOnThreeHosts_OneDiffering_ListsOnlyTheDifferingSettings()
    {
        var a = Detail("a", Kernel(), Service("api", 65_536, 65_536, 10));
        var b = Detail("b", Kernel(), Service("api", 65_536, 65_536, 10));
        var c = Detail("c", Kernel() with { EphemeralPortLow = 50000, EphemeralPortHigh = 50999 }, Service("api", 65_536, 65_536, 10));

        var view = Drift.Of([c, a, b], At);

        var api = Assert.Single(view.Services);
        Assert.Equal(["a", "b", "c"], api.Hosts);
        var row = Assert.Single(api.Differences);
        Assert.Equal(HostSettings.PortRange, row.Key);
        Assert.Equal(["32768–60999", "32768–60999", "50000–50999"], row.Values);
        // The narrow port range is the host's trouble: listed once for host c, not under each service on it.
        Assert.DoesNotContain(api.Findings, f => f.Key == HostSettings.PortRange);
        Assert.Equal([("c", HostSettings.PortRange)], view.HostFindings.Select(f => (f.Subject, f.Key)));
        Assert.Equal(3, view.HostsRead);
    }

    [Fact]
    public void AServiceOnOneHost_OrTheSameEverywhere_IsNoDrift()
    {
        var a = Detail("a", Kernel(), Service("api", 1024, 4096, 10), Service("solo", 8, 8, 1, pid: 5));
        var b = Detail("b", Kernel(), Service("api", 1024, 4096, 10));

        Assert.Empty(Drift.Of([a, b], At).Services);
    }

    [Fact]
    public void HostsNotSeenForADay_AreLeftOut()
    {
        var a = Detail("a", Kernel(), Service("api", 1024, 4096, 10));
        var b = Detail("b", Kernel(), Service("api", 2048, 4096, 10));
        var old = Detail("old", Kernel(), Service("api", 8192, 8192, 10)) with { LastSeen = At - Drift.MaxSnapshotAge - TimeSpan.FromSeconds(1) };

        var view = Drift.Of([a, b, old], At);

        Assert.Equal(["old"], view.LeftOut);
        Assert.Equal(2, view.HostsRead);
        Assert.Equal(["a", "b"], Assert.Single(view.Services).Hosts);
    }

    [Fact]
    public void AHostNameSeenTwice_KeepsTheLatest()
    {
        var oldMachine = Detail("a", Kernel(), Service("api", 1024, 4096, 10)) with { LastSeen = At - TimeSpan.FromHours(2) };
        var newMachine = Detail("a", Kernel(), Service("api", 2048, 4096, 10)) with { LastSeen = At - TimeSpan.FromMinutes(1) };
        var b = Detail("b", Kernel(), Service("api", 2048, 4096, 10));

        var view = Drift.Of([oldMachine, newMachine, b], At);

        Assert.Empty(view.Services);
        Assert.Equal(2, view.HostsRead);
    }
}
