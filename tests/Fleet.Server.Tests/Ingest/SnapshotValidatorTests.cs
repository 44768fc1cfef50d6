using Fleet.Contracts.V1;
using Fleet.Server.Ingest;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Tests.Ingest;

public sealed class SnapshotValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static SnapshotValidator Validator(IngestOptions? options = null) =>
        new(Options.Create(options ?? new IngestOptions()), new TestClock(Now));

    private static ValidationProblem? Validate(Snapshot snapshot) => Validator().Validate(snapshot, TestSnapshots.MachineId);

    private static Snapshot Valid() => TestSnapshots.Valid(7, Now.AddSeconds(-5));

    [Fact]
    public void Validate_WellFormedSnapshot_PassesWithoutProblem()
    {
        Assert.Null(Validate(Valid()));
    }

    [Fact]
    public void Validate_ProcessCmdlineAbove8KiB_NamesProcessIndexAndField()
    {
        var snapshot = Valid();
        snapshot.Processes[2].Cmdline = new string('x', SnapshotValidator.MaxCmdlineBytes + 1);

        var problem = Validate(snapshot);

        Assert.Equal("processes[2].cmdline", problem?.Field);
        Assert.Contains("8192", problem!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CmdlineOfMultiByteCharacters_CountsUtf8Bytes()
    {
        var snapshot = Valid();
        // 3000 characters, 9000 bytes in UTF-8.
        snapshot.Processes[0].Cmdline = new string('€', 3000);

        Assert.Equal("processes[0].cmdline", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_CmdlineExactlyAtLimit_Passes()
    {
        var snapshot = Valid();
        snapshot.Processes[0].Cmdline = new string('x', SnapshotValidator.MaxCmdlineBytes);

        Assert.Null(Validate(snapshot));
    }

    [Theory]
    [InlineData("comm", SnapshotValidator.MaxCommBytes)]
    [InlineData("exe", SnapshotValidator.MaxExeBytes)]
    [InlineData("service", SnapshotValidator.MaxServiceNameBytes)]
    [InlineData("cgroup.path", SnapshotValidator.MaxCgroupPathBytes)]
    public void Validate_ProcessStringOverItsLimit_NamesTheField(string field, int limit)
    {
        var snapshot = Valid();
        var p = snapshot.Processes[1];
        string value = new('a', limit + 1);
        switch (field)
        {
            case "comm": p.Comm = value; break;
            case "exe": p.Exe = value; break;
            case "service": p.Service = value; break;
            default: p.Cgroup.Path = value; break;
        }

        Assert.Equal($"processes[1].{field}", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_NulCharacterInComm_IsRefusedBecausePostgresTextCannotHoldIt()
    {
        var snapshot = Valid();
        snapshot.Processes[0].Comm = "evil\0name";

        var problem = Validate(snapshot);

        Assert.Equal("processes[0].comm", problem?.Field);
        Assert.Contains("NUL", problem!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_HostileButStorableProcessStrings_AreAccepted()
    {
        var snapshot = Valid();
        // Processes may name themselves anything: quotes, markup, newlines, emoji are data, not attacks on us.
        snapshot.Processes[0].Comm = "'; DROP TABLE--";
        snapshot.Processes[0].Cmdline = "<script>alert(1)</script>\n\t\"$(rm -rf /)\" 🙂";
        snapshot.Services[0].Name = "<b>app</b>";
        snapshot.Processes[0].Service = "<b>app</b>";

        Assert.Null(Validate(snapshot));
    }

    [Fact]
    public void Validate_ControlCharacterInHostname_IsRefused()
    {
        var snapshot = Valid();
        snapshot.Host.Hostname = "web-1\u001b[31m";

        Assert.Equal("host.hostname", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_ServiceNameOverLimit_NamesServiceIndex()
    {
        var snapshot = Valid();
        snapshot.Services[0].Name = new string('s', SnapshotValidator.MaxServiceNameBytes + 1);

        Assert.Equal("services[0].name", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_TooManyProcesses_NamesProcesses()
    {
        var snapshot = Valid();
        var template = snapshot.Processes[0];
        for (int i = snapshot.Processes.Count; i <= SnapshotValidator.MaxProcesses; i++)
        {
            snapshot.Processes.Add(template);
        }

        var problem = Validate(snapshot);

        Assert.Equal("processes", problem?.Field);
        Assert.Contains("50000", problem!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TooManyServices_NamesServices()
    {
        var snapshot = Valid();
        var template = snapshot.Services[0];
        for (int i = snapshot.Services.Count; i <= SnapshotValidator.MaxServices; i++)
        {
            snapshot.Services.Add(template);
        }

        Assert.Equal("services", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_TooManyCloseWaitRemotesOnAService_NamesTheList()
    {
        var snapshot = Valid();
        for (int i = 0; i < SnapshotValidator.MaxEndpointsPerEntry; i++)
        {
            snapshot.Services[0].CloseWaitRemotes.Add(new RemoteEndpointCount { Address = "10.0.0.1", Port = (uint)i, Count = 1 });
        }

        Assert.Equal("services[0].close_wait_remotes", Validate(snapshot)?.Field);
    }

    [Theory]
    [InlineData("not-an-ip")]
    [InlineData("1")]
    [InlineData("10.0.0")]
    [InlineData("300.1.1.1")]
    [InlineData("")]
    [InlineData("10.0.0.1; DROP")]
    public void Validate_CloseWaitRemoteThatIsNotAnIpAddress_NamesTheAddress(string address)
    {
        var snapshot = Valid();
        snapshot.Processes[1].CloseWaitRemotes[0].Address = address;

        Assert.Equal("processes[1].close_wait_remotes[0].address", Validate(snapshot)?.Field);
    }

    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("2001:db8::1")]
    [InlineData("::1")]
    public void Validate_IpAddresses_AreAccepted(string address)
    {
        var snapshot = Valid();
        snapshot.Processes[1].CloseWaitRemotes[0].Address = address;

        Assert.Null(Validate(snapshot));
    }

    [Fact]
    public void Validate_PortAbove65535_NamesThePort()
    {
        var snapshot = Valid();
        snapshot.System.TopEphemeralRemote.Port = 70_000;

        Assert.Equal("system.top_ephemeral_remote.port", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_CollectedAtMoreThanTenMinutesAhead_IsRefusedNamingCollectedAt()
    {
        var snapshot = TestSnapshots.Valid(7, Now.AddMinutes(11));

        var problem = Validate(snapshot);

        Assert.Equal("collected_at", problem?.Field);
        Assert.Contains("ahead", problem!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CollectedAtSlightlyAhead_IsAcceptedAsClockSkew()
    {
        Assert.Null(Validate(TestSnapshots.Valid(7, Now.AddMinutes(9))));
    }

    [Fact]
    public void Validate_CollectedAtOlderThanRetention_IsRefused()
    {
        var validator = Validator(new IngestOptions { MaxSnapshotAge = TimeSpan.FromDays(14) });

        var problem = validator.Validate(TestSnapshots.Valid(7, Now.AddDays(-15)), TestSnapshots.MachineId);

        Assert.Equal("collected_at", problem?.Field);
    }

    [Fact]
    public void Validate_CollectedAtMissing_IsRefused()
    {
        var snapshot = Valid();
        snapshot.CollectedAt = null;

        Assert.Equal("collected_at", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_CollectedAtWithInvalidNanos_IsRefused()
    {
        var snapshot = Valid();
        snapshot.CollectedAt = new Timestamp { Seconds = Now.ToUnixTimeSeconds(), Nanos = -5 };

        Assert.Equal("collected_at", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_SequenceZero_IsRefused()
    {
        var snapshot = Valid();
        snapshot.Sequence = 0;

        Assert.Equal("sequence", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_ContractVersionZero_IsRefused()
    {
        var snapshot = Valid();
        snapshot.ContractVersion = 0;

        Assert.Equal("contract_version", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_MachineIdOtherThanHello_IsRefused()
    {
        var snapshot = Valid();
        snapshot.Host.MachineId = "ffffffffffffffffffffffffffffffff";

        Assert.Equal("host.machine_id", Validate(snapshot)?.Field);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-1)]
    [InlineData(2e6)]
    public void Validate_SoftLimitPercentOutOfRange_NamesTheField(double percent)
    {
        var snapshot = Valid();
        snapshot.Services[0].WorstSoftLimitPercent = percent;

        Assert.Equal("services[0].worst_soft_limit_percent", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_CounterBeyondBigint_NamesTheCounter()
    {
        var snapshot = Valid();
        snapshot.Processes[0].Fds.SocketUnix = ulong.MaxValue - 1;

        Assert.Equal("processes[0].fds.socket_unix", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_UnlimitedNofile_IsAccepted()
    {
        var snapshot = Valid();
        snapshot.Processes[0].NofileSoft = ulong.MaxValue;

        Assert.Null(Validate(snapshot));
    }

    [Fact]
    public void Validate_OpenFdsOfUnreadableProcess_IsInconsistent()
    {
        var snapshot = Valid();
        snapshot.Processes[0].FdsReadable = false;

        Assert.Equal("processes[0].open_fds", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_MoreUnreadableThanProcesses_IsInconsistent()
    {
        var snapshot = Valid();
        snapshot.Services[0].UnreadableProcessCount = snapshot.Services[0].ProcessCount + 1;

        Assert.Equal("services[0].unreadable_process_count", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_NegativePid_IsRefused()
    {
        var snapshot = Valid();
        snapshot.Processes[1].Pid = -4;

        Assert.Equal("processes[1].pid", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_EphemeralRangeReversed_IsRefused()
    {
        var snapshot = Valid();
        snapshot.System.EphemeralPortLow = 61_000;

        Assert.Equal("system.ephemeral_port_low", Validate(snapshot)?.Field);
    }

    [Fact]
    public void Validate_NegativeCollectionDuration_IsRefused()
    {
        var snapshot = Valid();
        snapshot.CollectionDuration = new Duration { Seconds = -1 };

        Assert.Equal("collection_duration", Validate(snapshot)?.Field);
    }

    [Fact]
    public void ValidateHello_AgentIdTooLong_NamesAgentId()
    {
        var hello = TestSnapshots.Hello("fleet_x", new string('a', SnapshotValidator.MaxAgentIdLength + 1));

        Assert.Equal("hello.agent_id", SnapshotValidator.ValidateHello(hello)?.Field);
    }

    [Fact]
    public void ValidateHello_MissingAgentId_NamesAgentId()
    {
        Assert.Equal("hello.agent_id", SnapshotValidator.ValidateHello(TestSnapshots.Hello("fleet_x", ""))?.Field);
    }

    [Fact]
    public void ValidateHello_MissingMachineId_NamesMachineId()
    {
        var hello = TestSnapshots.Hello("fleet_x");
        hello.Host.MachineId = "";

        Assert.Equal("hello.host.machine_id", SnapshotValidator.ValidateHello(hello)?.Field);
    }

    [Fact]
    public void ValidateHello_HostnameOver255Bytes_NamesHostname()
    {
        var hello = TestSnapshots.Hello("fleet_x");
        hello.Host.Hostname = new string('h', 256);

        Assert.Equal("hello.host.hostname", SnapshotValidator.ValidateHello(hello)?.Field);
    }

    [Fact]
    public void ValidateHello_GuidAgentId_Passes()
    {
        Assert.Null(SnapshotValidator.ValidateHello(TestSnapshots.Hello("fleet_x", Guid.NewGuid().ToString("D"))));
    }

    [Fact]
    public void Shorten_HostileValue_CutsAndStripsControlCharacters()
    {
        string shortened = SnapshotValidator.Shorten("a\nb\u001bc" + new string('x', 100), 10);

        Assert.Equal("a?b?cxxxxx…", shortened);
    }
}
