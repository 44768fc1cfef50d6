using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection;

/// <summary>The collector against the real /proc, reading as a user who may not look at others' fds.</summary>
public sealed class RealProcPermissionTests
{
    private static HostCollector NewCollector() => new(new CollectorOptions { ProcRoot = "/proc", DockerRoot = "" });

    private static ProcessRecord Self(HostCollection c) => Assert.Single(c.Processes, p => p.Pid == Environment.ProcessId);

    [Fact]
    public void Collect_AsUnprivilegedFsuid_ReportsOtherUsersProcessesUnreadableNotEmpty()
    {
        // The test host's parent (the runner) belongs to root; with fsuid 65534 its fd table is closed to
        // this thread, while a process may always read its own.
        int parent = Self(NewCollector().Collect()).Ppid;

        var c = ProcessReadingTests.CollectAsNobody(NewCollector());

        var runner = Assert.Single(c.Processes, p => p.Pid == parent);
        Assert.False(runner.FdsReadable);
        Assert.Equal(0d, runner.SoftLimitPercent);
        Assert.True(c.Stats.ProcessesUnreadable >= 1);
        Assert.Equal((uint)c.Processes.Count(p => !p.FdsReadable), c.Stats.ProcessesUnreadable);
        var self = Self(c);
        Assert.True(self.FdsReadable);
        Assert.True(self.OpenFds > 0);
    }

}
