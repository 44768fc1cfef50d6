using System.Text;
using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection;

public sealed class ProcessReadingTests : IDisposable
{
    private readonly ProcTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Collect_WithPidDirWhoseStatIsGone_CountsItVanishedAndSkipsIt()
    {
        _tree.Process(100);
        _tree.Process(101).Delete("stat");

        var c = _tree.Collect();

        Assert.Equal(100, Assert.Single(c.Processes).Pid);
        Assert.Equal(1U, c.Stats.ProcessesVanished);
        Assert.Equal(1U, c.Stats.ProcessesSeen);
        Assert.Equal(0U, c.Stats.MalformedLines);
    }

    [Fact]
    public void Collect_WhenFdDirIsGoneAfterStat_CountsTheProcessVanishedNotEmpty()
    {
        // A process that exits between its stat and its fd table: ENOENT, which is not "no fds".
        _tree.Process(100).Delete("fd");

        var c = _tree.Collect();

        Assert.Empty(c.Processes);
        Assert.Equal(1U, c.Stats.ProcessesVanished);
    }

    [Fact]
    public void Collect_WithFdThatIsNotADirectory_ReportsTheProcessUnreadableNotVanished()
    {
        // ENOTDIR cannot happen on a real procfs; only ENOENT/ESRCH mean the process went away, any
        // other error leaves its fds unknown (never zero) while the process itself is still reported.
        _tree.Process(100).Delete("fd").File("fd", "");

        var c = _tree.Collect();

        var p = Assert.Single(c.Processes);
        Assert.False(p.FdsReadable);
        Assert.Equal(0UL, p.OpenFds);
        Assert.Equal(0U, c.Stats.ProcessesVanished);
        Assert.Equal(1U, c.Stats.ProcessesUnreadable);
    }

    [Fact]
    public void Collect_WithFdDirItMayNotRead_ReportsProcessUnreadableNotZero()
    {
        // Root passes permission bits, so the collection runs on a thread whose fsuid is "nobody":
        // setfsuid drops CAP_DAC_OVERRIDE for that thread alone, and the 000 fd dir gives EACCES.
        _tree.Process(100).Fds(0, 4, "pipe:[9]");
        var locked = _tree.Process(101).Fds(0, 40, "pipe:[9]");
        File.SetUnixFileMode(Path.Combine(locked.Dir, "fd"), UnixFileMode.None);

        var c = CollectAsNobody(_tree.NewCollector());

        Assert.Equal(2, c.Processes.Count);
        var p = Assert.Single(c.Processes, p => p.Pid == 101);
        Assert.False(p.FdsReadable);
        Assert.Equal(0d, p.SoftLimitPercent);
        Assert.Equal(1U, c.Stats.ProcessesUnreadable);
        Assert.Equal(0U, c.Stats.ProcessesVanished);
        var readable = Assert.Single(c.Processes, p => p.Pid == 100);
        Assert.True(readable.FdsReadable);
        Assert.Equal(4UL, readable.OpenFds);
    }

    [Fact]
    public void Collect_WithFdDirItMayListButNotSearch_ReportsProcessUnreadable()
    {
        // r-- without x: the listing works, every readlinkat fails with EACCES.
        var locked = _tree.Process(101).Fds(0, 5, "pipe:[9]").Fd(5, "anon_inode:inotify");
        File.SetUnixFileMode(Path.Combine(locked.Dir, "fd"), UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var c = CollectAsNobody(_tree.NewCollector());

        var p = Assert.Single(c.Processes);
        Assert.False(p.FdsReadable);
        Assert.Equal(1U, c.Stats.ProcessesUnreadable);
        Assert.Empty(c.System.InotifyByUser);
    }

    [Fact]
    public void Collect_WithKernelThread_SkipsIt()
    {
        _tree.Process(2).Stat(comm: "kthreadd", ppid: 0, flags: 0x208040);
        _tree.Process(17).Stat(comm: "ksoftirqd/1", ppid: 2, flags: 0x4208040);
        _tree.Process(100);

        var c = _tree.Collect();

        Assert.Equal(100, Assert.Single(c.Processes).Pid);
        Assert.Equal(0U, c.Stats.ProcessesVanished);
        Assert.Equal(0U, c.Stats.MalformedLines);
    }

    [Theory]
    [InlineData("my proc", "my proc")]
    [InlineData("a) S 1 (b", "a) S 1 (b")]
    [InlineData("x)", "x)")]
    [InlineData("((", "((")]
    public void Collect_WithCommContainingSpacesAndParens_ParsesCommAndTheFieldsAfterIt(string comm, string expected)
    {
        _tree.Process(100).Stat(comm: comm, ppid: 42, threads: 7, startTicks: 123456);

        var p = Assert.Single(_tree.Collect().Processes);

        Assert.Equal(expected, p.Comm);
        Assert.Equal(42, p.Ppid);
        Assert.Equal(7U, p.Threads);
        Assert.Equal(123456UL, p.StartTicks);
    }

    [Fact]
    public void Collect_WithIdentityFiles_ReadsEffectiveUidExeCmdlineAndStartTime()
    {
        _tree.Process(100).Status(euid: 33).Link("exe", "/usr/sbin/nginx").Cmdline("nginx: worker process\0\0"u8.ToArray())
            .Stat(startTicks: 250);

        var p = Assert.Single(_tree.Collect().Processes);

        Assert.Equal(33U, p.Uid);
        Assert.Equal("/usr/sbin/nginx", p.Exe);
        Assert.Equal("nginx: worker process", p.Cmdline);
        Assert.False(p.CmdlineTruncated);
        long ticksPerSecond = TestLibC.SysConf(TestLibC.SC_CLK_TCK);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(ProcTree.BootTimeSeconds).AddSeconds(250.0 / ticksPerSecond), p.StartTime);
    }

    [Fact]
    public void Collect_WithHostileCmdlineBytes_SanitizesThem()
    {
        byte[] cmdline = [.. "py\0--name="u8, 0xFF, 0xFE, 0x01, .. "bad"u8, 0x1B, .. "[31m\0"u8, 0xC3, 0xA9, 0x7F, 0];
        _tree.Process(100).Cmdline(cmdline).Link("exe", "/opt/\u0007bin");

        var p = Assert.Single(_tree.Collect().Processes);

        Assert.Equal("py --name=\uFFFD\uFFFD?bad?[31m \u00E9?", p.Cmdline);
        Assert.False(p.CmdlineTruncated);
        Assert.Equal("/opt/?bin", p.Exe);
    }

    [Fact]
    public void Collect_WithCmdlineLongerThanTheLimit_CutsItAndSaysSo()
    {
        byte[] cmdline = Encoding.ASCII.GetBytes(string.Join('\0', Enumerable.Repeat("--flag=value", 100)) + "\0");
        _tree.Process(100).Cmdline(cmdline);
        _tree.Process(101).Cmdline("short\0"u8.ToArray());

        var c = _tree.NewCollector(cmdlineMaxBytes: 64).Collect();

        var cut = Assert.Single(c.Processes, p => p.Pid == 100);
        Assert.True(cut.CmdlineTruncated);
        Assert.Equal(64, cut.Cmdline.Length);
        Assert.StartsWith("--flag=value --flag=value ", cut.Cmdline, StringComparison.Ordinal);
        var whole = Assert.Single(c.Processes, p => p.Pid == 101);
        Assert.False(whole.CmdlineTruncated);
        Assert.Equal("short", whole.Cmdline);
    }

    [Fact]
    public void Collect_WithCmdlineOfInvalidUtf8BeyondTheLimit_StaysWithinTheLimit()
    {
        byte[] cmdline = Enumerable.Repeat((byte)0xFF, 10_000).ToArray();
        _tree.Process(100).Cmdline(cmdline);

        var p = Assert.Single(_tree.NewCollector(cmdlineMaxBytes: 100).Collect().Processes);

        Assert.True(p.CmdlineTruncated);
        Assert.True(p.Cmdline.Length <= 100, $"{p.Cmdline.Length} chars");
        Assert.All(p.Cmdline, ch => Assert.Equal('\uFFFD', ch));
    }

    [Fact]
    public void Collect_WithUnlimitedNofile_ReportsMaxValueAndNoPercentage()
    {
        _tree.Process(100).Limits("unlimited", "unlimited").Fds(0, 3, "pipe:[9]");
        _tree.Process(101).Limits("1024", "unlimited").Fds(0, 256, "pipe:[9]");

        var c = _tree.Collect();

        var unlimited = Assert.Single(c.Processes, p => p.Pid == 100);
        Assert.Equal(ulong.MaxValue, unlimited.NofileSoft);
        Assert.Equal(ulong.MaxValue, unlimited.NofileHard);
        Assert.Equal(0d, unlimited.SoftLimitPercent);
        var quarter = Assert.Single(c.Processes, p => p.Pid == 101);
        Assert.Equal(1024UL, quarter.NofileSoft);
        Assert.Equal(ulong.MaxValue, quarter.NofileHard);
        Assert.Equal(25d, quarter.SoftLimitPercent);
    }

    /// <summary>Runs one collection on a thread of its own whose filesystem uid is 65534.</summary>
    internal static HostCollection CollectAsNobody(HostCollector collector)
    {
        HostCollection? result = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            int previous = TestLibC.SetFsUid(65534);
            try
            {
                // setfsuid(-1) changes nothing and answers the current fsuid.
                if (previous != 0 || TestLibC.SetFsUid(uint.MaxValue) != 65534)
                {
                    throw new InvalidOperationException("could not lower the filesystem uid of the collecting thread");
                }
                result = collector.Collect();
            }
            catch (Exception e)
            {
                error = e;
            }
            finally
            {
                _ = TestLibC.SetFsUid(0);
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the collection did not finish");
        if (error is not null)
        {
            throw new InvalidOperationException("collection failed", error);
        }
        return result!;
    }
}
