using Fleet.Agent.Collection;
using Fleet.Agent.Snapshots;
using Fleet.Contracts.V1;
using Google.Protobuf;

namespace Fleet.Agent.Tests.Snapshots;

public class SnapshotBuilderTests
{
    private static readonly Endpoint RemoteA = new(0x0A000307, true, 443);   // 10.0.3.7:443
    private static readonly Endpoint RemoteB = new(0x0A000308, true, 5432);  // 10.0.3.8:5432

    private static ProcessRecord Process(int pid, string service, ulong fds, ulong soft, ulong hard = 4096, bool readable = true)
    {
        var p = new ProcessRecord { Pid = pid, StartTicks = (ulong)pid, Comm = "p" + pid, Service = service, ServiceSource = ServiceSource.Executable, FdsReadable = readable, OpenFds = fds, NofileSoft = soft, NofileHard = hard };
        p.Fds.Add(FdKind.RegularFile, fds);
        return p;
    }

    private static HostCollection Collection(params ProcessRecord[] processes) => new()
    {
        Host = new HostInfo("m", "b", "h", "k"),
        CollectedAt = DateTimeOffset.UnixEpoch.AddDays(20000),
        Processes = processes,
        System = new SystemInfo { FileHandlesAllocated = 10, FileHandlesMax = 100, EphemeralLow = 32768, EphemeralHigh = 60999, TopEphemeralRemote = RemoteA, TopEphemeralRemotePorts = 7 },
        Namespaces = [],
        Stats = new CollectionStats { ProcessesSeen = (uint)processes.Length },
    };

    [Fact]
    public void Services_AggregateProcessesAndPickTheOneClosestToItsSoftLimit()
    {
        var big = Process(1, "api", fds: 900, soft: 65536);      // 1.4 %
        var near = Process(2, "api", fds: 800, soft: 1024);      // 78 %
        var other = Process(3, "db", fds: 50, soft: 1024);
        near.Tcp.Add(TcpState.CloseWait, 5);
        near.CloseWaitRemotes[RemoteA] = 3;
        near.CloseWaitRemotes[RemoteB] = 2;
        big.Tcp.Add(TcpState.CloseWait, 4);
        big.CloseWaitRemotes[RemoteB] = 4;

        var services = SnapshotBuilder.Services([big, near, other]);

        var api = Assert.Single(services, s => s.Name == "api");
        Assert.Equal(2u, api.ProcessCount);
        Assert.Equal(1700ul, api.OpenFds);
        Assert.Equal(1700ul, api.Fds.RegularFile);
        Assert.Equal(9ul, api.Tcp.CloseWait);
        Assert.Equal(2, api.WorstPid);
        Assert.Equal(1024ul, api.WorstNofileSoft);
        Assert.Equal(100.0 * 800 / 1024, api.WorstSoftLimitPercent, 6);
        Assert.Equal(["10.0.3.8:5432=6", "10.0.3.7:443=3"], api.CloseWaitRemotes.Select(r => $"{r.Address}:{r.Port}={r.Count}"));
        Assert.Equal("api", services[0].Name);
    }

    [Fact]
    public void Services_CountUnreadableProcessesWithoutTreatingThemAsZero()
    {
        var readable = Process(1, "svc", fds: 10, soft: 1024);
        var hidden = Process(2, "svc", fds: 0, soft: 1024, readable: false);

        var svc = Assert.Single(SnapshotBuilder.Services([readable, hidden]));

        Assert.Equal(2u, svc.ProcessCount);
        Assert.Equal(1u, svc.UnreadableProcessCount);
        Assert.Equal(10ul, svc.OpenFds);
        Assert.Equal(1, svc.WorstPid);
    }

    [Fact]
    public void Services_WithUnlimitedSoftLimit_ReportNoPercentage()
    {
        var p = Process(1, "svc", fds: 10, soft: ulong.MaxValue, hard: ulong.MaxValue);

        var svc = Assert.Single(SnapshotBuilder.Services([p]));

        Assert.Equal(0, svc.WorstSoftLimitPercent);
        Assert.Equal(ulong.MaxValue, svc.WorstNofileSoft);
    }

    [Fact]
    public void Build_CarriesIdentitySequenceSystemAndProcesses()
    {
        var p = Process(7, "svc", fds: 3, soft: 1024);

        var s = SnapshotBuilder.Build(Collection(p), sequence: 42, agentVersion: "9.9.9");

        Assert.Equal(SnapshotBuilder.ContractVersion, s.ContractVersion);
        Assert.Equal(42ul, s.Sequence);
        Assert.Equal("9.9.9", s.Host.AgentVersion);
        Assert.Equal("h", s.Host.Hostname);
        Assert.Equal(7, Assert.Single(s.Processes).Pid);
        Assert.Equal(100ul, s.System.FileHandlesMax);
        Assert.Equal("10.0.3.7", s.System.TopEphemeralRemote.Address);
        Assert.Equal(7ul, s.System.TopEphemeralRemote.Count);
    }

    [Fact]
    public void Build_KeepsOnlyTheTopRemotesOfAProcess()
    {
        var p = Process(1, "svc", fds: 500, soft: 1024);
        for (uint i = 0; i < SnapshotBuilder.MaxRemotesPerEntry + 20; i++)
        {
            p.CloseWaitRemotes[new Endpoint(0x0A000000 + i, true, 443)] = i + 1;
        }

        var remotes = SnapshotBuilder.Build(Collection(p), 1, "v").Processes[0].CloseWaitRemotes;

        Assert.Equal(SnapshotBuilder.MaxRemotesPerEntry, remotes.Count);
        Assert.Equal((ulong)SnapshotBuilder.MaxRemotesPerEntry + 20, remotes[0].Count);
    }

    [Fact]
    public void Build_JsonFormRoundTripsThroughTheContract()
    {
        var p = Process(1, "svc", fds: 5, soft: 1024);
        p.CloseWaitRemotes[new Endpoint(((UInt128)0x20010DB8 << 96) | 1, false, 8443)] = 2;
        var snapshot = SnapshotBuilder.Build(Collection(p), 3, "v");

        string json = new JsonFormatter(JsonFormatter.Settings.Default.WithFormatDefaultValues(true)).Format(snapshot);
        var parsed = JsonParser.Default.Parse<Snapshot>(json);

        Assert.Equal(snapshot, parsed);
        Assert.Equal("2001:db8::1", parsed.Processes[0].CloseWaitRemotes[0].Address);
    }
}
