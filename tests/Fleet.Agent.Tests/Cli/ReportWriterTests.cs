using Fleet.Agent.Cli;
using Fleet.Contracts.V1;

namespace Fleet.Agent.Tests.Cli;

public class ReportWriterTests
{
    private static Snapshot Sample()
    {
        var s = new Snapshot
        {
            Host = new HostIdentity { Hostname = "web-7", Kernel = "6.1.0", AgentVersion = "1.0.0" },
            CollectedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch.AddDays(20000)),
            AgentCost = new AgentCost { ProcessesSeen = 2, ProcessesUnreadable = 1 },
            System = new SystemFigures
            {
                FileHandlesAllocated = 1234,
                FileHandlesMax = 2_466_165,
                EphemeralPortLow = 32768,
                EphemeralPortHigh = 60999,
                EphemeralPortsInUse = 28000,
                TopEphemeralRemote = new RemoteEndpointCount { Address = "10.0.3.7", Port = 443, Count = 27000 },
                InotifyMaxUserInstances = 128,
            },
            UnownedTcp = new TcpStates { TimeWait = 12 },
        };
        s.System.InotifyByUser.Add(new UserInotify { Uid = 1000, Instances = 120 });
        var java = new Process { Pid = 4242, Comm = "java", Service = "payments", FdsReadable = true, OpenFds = 1000, NofileSoft = 1024, NofileHard = 4096, Fds = new FdCounts { SocketTcp = 900, RegularFile = 100 }, Tcp = new TcpStates { CloseWait = 850, Established = 50 } };
        java.CloseWaitRemotes.Add(new RemoteEndpointCount { Address = "10.0.3.7", Port = 443, Count = 800 });
        java.CloseWaitRemotes.Add(new RemoteEndpointCount { Address = "2001:db8::1", Port = 8443, Count = 50 });
        s.Processes.Add(java);
        s.Processes.Add(new Process { Pid = 1, Comm = "init", Service = "init", FdsReadable = false, NofileSoft = ulong.MaxValue, NofileHard = ulong.MaxValue });
        s.Services.Add(new Service { Name = "payments", Source = Service.Types.Source.Container, ProcessCount = 1, OpenFds = 1000, Tcp = new TcpStates { CloseWait = 850 }, WorstPid = 4242, WorstOpenFds = 1000, WorstNofileSoft = 1024, WorstNofileHard = 4096, WorstSoftLimitPercent = 97.65625 });
        s.Services.Add(new Service { Name = "init", ProcessCount = 1, UnreadableProcessCount = 1 });
        return s;
    }

    [Fact]
    public void Write_ShowsTheServiceNearItsLimitWithLimitsAndPercent()
    {
        var o = new StringWriter();
        ReportWriter.Write(Sample(), o, 10);
        string text = o.ToString();

        Assert.Matches(@"payments\s+container\s+1\s+1000\s+850\s+850\s+4242\s+1000/1024\s+98%\s+4096", text);
    }

    [Fact]
    public void Write_ListsCloseWaitByRemoteWithHolderAndBracketsIPv6()
    {
        var o = new StringWriter();
        ReportWriter.Write(Sample(), o, 10);
        string text = o.ToString();

        Assert.Contains("850 sockets whose peer has closed", text, StringComparison.Ordinal);
        Assert.Matches(@"10\.0\.3\.7:443\s+800\s+java\[4242\] payments \(800\)", text);
        Assert.Matches(@"\[2001:db8::1\]:8443\s+50\s", text);
    }

    [Fact]
    public void Write_ShowsHeadroomAndTheRemoteUsingMostEphemeralPorts()
    {
        var o = new StringWriter();
        ReportWriter.Write(Sample(), o, 10);
        string text = o.ToString();

        Assert.Matches(@"ephemeral ports\s+28\.0k of 28\.2k\s+99%", text);
        Assert.Contains("most toward 10.0.3.7:443: 27000", text, StringComparison.Ordinal);
        Assert.Matches(@"inotify instances\s+120 of 128 per user\s+94%", text);
    }

    [Fact]
    public void Write_MarksUnreadableProcessesAsUnknownNotZero()
    {
        var o = new StringWriter();
        ReportWriter.Write(Sample(), o, 10);
        string text = o.ToString();

        Assert.Matches(@"(?m)^\s+1\s+init\s+init\s+\?\s+unlimited\s+unlimited\s+\?", text);
        Assert.Contains("1 unreadable", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(999ul, "999")]
    [InlineData(12_345ul, "12.3k")]
    [InlineData(262_144ul, "262k")]
    [InlineData(2_466_165ul, "2.5M")]
    public void Human_RoundsLargeNumbers(ulong n, string expected) => Assert.Equal(expected, ReportWriter.Human(n));
}
