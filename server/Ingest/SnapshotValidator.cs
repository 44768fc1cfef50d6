using System.Net;
using System.Text;
using Fleet.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Ingest;

/// <summary>Why a message was refused: the field as a path ("processes[12].cmdline") and the reason.</summary>
public sealed record ValidationProblem(string Field, string Reason)
{
    public override string ToString() => $"{Field}: {Reason}";
}

/// <summary>
/// Decides whether a snapshot may be stored, before anything of it is: every count, length and value range
/// the storage and the pages rely on. The size of the whole message is bounded earlier, by gRPC
/// (<see cref="IngestOptions.MaxMessageSize"/>). A snapshot is refused as a whole, naming the first field at
/// fault; strings from /proc are only refused for what cannot be stored (NUL) or for their length, since
/// processes may name themselves anything.
/// </summary>
public sealed class SnapshotValidator
{
    public const uint MinContractVersion = 1;
    public const int MaxProcesses = 50_000;
    public const int MaxServices = 10_000;
    public const int MaxNetworkNamespaces = 50_000;
    public const int MaxEndpointsPerEntry = 1_000;
    public const int MaxInotifyUsers = 65_536;

    public const int MaxCommBytes = 64;
    public const int MaxCmdlineBytes = 8 * 1024;
    public const int MaxExeBytes = 4 * 1024;
    public const int MaxServiceNameBytes = 256;
    public const int MaxCgroupPathBytes = 4 * 1024;
    public const int MaxCgroupFieldBytes = 256;
    public const int MaxAgentIdLength = 64;
    public const int MaxMachineIdLength = 128;
    public const int MaxHostnameBytes = 255;
    public const int MaxHostFieldBytes = 256;
    public const int MaxAddressLength = 64;

    public const double MaxPercent = 1e6;

    /// <summary>Durations the agent reports (collection time, CPU) are at most this long.</summary>
    public static TimeSpan MaxDuration { get; } = TimeSpan.FromHours(1);

    private const ulong MaxCounter = long.MaxValue;

    private static readonly string[] FdCountNames =
    [
        "regular_file", "directory", "pipe", "fifo", "socket_tcp", "socket_udp", "socket_unix", "socket_netlink",
        "socket_other", "char_device", "block_device", "eventpoll", "eventfd", "timerfd", "signalfd", "inotify",
        "anon_inode_other", "memfd", "other",
    ];

    private static readonly string[] TcpStateNames =
    [
        "established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "time_wait", "close", "close_wait",
        "last_ack", "listen", "closing", "new_syn_recv",
    ];

    private readonly TimeProvider _time;
    private readonly TimeSpan _maxAge;
    private readonly TimeSpan _maxSkew;

    public SnapshotValidator(IOptions<IngestOptions> options, TimeProvider time)
    {
        _time = time;
        _maxAge = options.Value.MaxSnapshotAge;
        _maxSkew = options.Value.MaxClockSkew;
    }

    /// <summary>The first problem of a Hello, or null. Paths start with "hello.".</summary>
    public static ValidationProblem? ValidateHello(Hello hello)
    {
        ArgumentNullException.ThrowIfNull(hello);
        if (string.IsNullOrEmpty(hello.AgentId))
        {
            return new("hello.agent_id", "required (the agent's id from its state folder)");
        }
        if (hello.AgentId.Length > MaxAgentIdLength)
        {
            return new("hello.agent_id", $"{hello.AgentId.Length} characters, at most {MaxAgentIdLength} allowed");
        }
        if (!hello.AgentId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
        {
            return new("hello.agent_id", "only letters, digits, '-', '_', '.' and ':' are allowed");
        }
        if (hello.Host is null)
        {
            return new("hello.host", "required (machine id, boot id, hostname)");
        }
        return HostProblem(hello.Host, "hello.host")
            ?? Text(hello.AgentVersion, "hello.agent_version", MaxHostFieldBytes, identity: true);
    }

    /// <summary>The first problem of a snapshot sent on a stream whose Hello named <paramref name="machineId"/>, or null.</summary>
    public ValidationProblem? Validate(Snapshot snapshot, string machineId)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.ContractVersion < MinContractVersion)
        {
            return new("contract_version", $"{snapshot.ContractVersion} is not a fleet.v1 contract version (this server accepts {MinContractVersion} and later)");
        }
        if (snapshot.Sequence == 0)
        {
            return new("sequence", "must be greater than 0");
        }
        if (snapshot.Sequence > MaxCounter)
        {
            return new("sequence", $"{snapshot.Sequence} is larger than {MaxCounter}");
        }
        if (snapshot.Host is null)
        {
            return new("host", "required (the host identity sent in hello)");
        }
        if (!string.Equals(snapshot.Host.MachineId, machineId, StringComparison.Ordinal))
        {
            return new("host.machine_id", $"'{Shorten(snapshot.Host.MachineId)}' is not the machine id this stream's hello named");
        }
        return HostProblem(snapshot.Host, "host")
            ?? CollectedAtProblem(snapshot.CollectedAt)
            ?? DurationProblem(snapshot.CollectionDuration, "collection_duration")
            ?? CountProblem(snapshot.Processes.Count, MaxProcesses, "processes")
            ?? CountProblem(snapshot.Services.Count, MaxServices, "services")
            ?? CountProblem(snapshot.NetworkNamespaces.Count, MaxNetworkNamespaces, "network_namespaces")
            ?? ServicesProblem(snapshot)
            ?? ProcessesProblem(snapshot)
            ?? Tcp(snapshot.UnownedTcp, "unowned_tcp")
            ?? SystemProblem(snapshot.System)
            ?? NamespacesProblem(snapshot)
            ?? AgentCostProblem(snapshot.AgentCost);
    }

    private static ValidationProblem? HostProblem(HostIdentity host, string path)
    {
        if (string.IsNullOrEmpty(host.MachineId))
        {
            return new($"{path}.machine_id", "required (/etc/machine-id)");
        }
        if (host.MachineId.Length > MaxMachineIdLength)
        {
            return new($"{path}.machine_id", $"{host.MachineId.Length} characters, at most {MaxMachineIdLength} allowed");
        }
        if (string.IsNullOrWhiteSpace(host.Hostname))
        {
            return new($"{path}.hostname", "required");
        }
        return Text(host.MachineId, $"{path}.machine_id", MaxMachineIdLength, identity: true)
            ?? Text(host.Hostname, $"{path}.hostname", MaxHostnameBytes, identity: true)
            ?? Text(host.BootId, $"{path}.boot_id", MaxHostFieldBytes, identity: true)
            ?? Text(host.Kernel, $"{path}.kernel", MaxHostFieldBytes, identity: true)
            ?? Text(host.AgentVersion, $"{path}.agent_version", MaxHostFieldBytes, identity: true);
    }

    private ValidationProblem? CollectedAtProblem(Timestamp? collectedAt)
    {
        if (collectedAt is null)
        {
            return new("collected_at", "required");
        }
        if (TimestampProblem(collectedAt) is { } bad)
        {
            return new("collected_at", bad);
        }
        var at = collectedAt.ToDateTimeOffset();
        var now = _time.GetUtcNow();
        if (at > now + _maxSkew)
        {
            return new("collected_at", $"{at:O} is more than {_maxSkew.TotalMinutes:0} min ahead of the server's clock ({now:O}): check the host's clock");
        }
        if (at < now - _maxAge)
        {
            return new("collected_at", $"{at:O} is older than the {_maxAge.TotalDays:0.##} days kept (server time {now:O})");
        }
        return null;
    }

    private static string? TimestampProblem(Timestamp t)
    {
        const long MinSeconds = -62_135_596_800; // 0001-01-01
        const long MaxSeconds = 253_402_300_799; // 9999-12-31
        if (t.Seconds is < MinSeconds or > MaxSeconds || t.Nanos is < 0 or > 999_999_999)
        {
            return $"not a valid timestamp (seconds {t.Seconds}, nanos {t.Nanos})";
        }
        return null;
    }

    private static ValidationProblem? DurationProblem(Duration? d, string path)
    {
        if (d is null)
        {
            return null;
        }
        if (d.Seconds < 0 || d.Nanos < 0 || d.Nanos > 999_999_999 || d.Seconds > (long)MaxDuration.TotalSeconds)
        {
            return new(path, $"must be between 0 and {MaxDuration.TotalSeconds:0} s (seconds {d.Seconds}, nanos {d.Nanos})");
        }
        return null;
    }

    private static ValidationProblem? CountProblem(int count, int max, string path) =>
        count > max ? new(path, $"{count} entries, at most {max} allowed") : null;

    private static ValidationProblem? ServicesProblem(Snapshot snapshot)
    {
        for (int i = 0; i < snapshot.Services.Count; i++)
        {
            var s = snapshot.Services[i];
            string path = $"services[{i}]";
            if (string.IsNullOrEmpty(s.Name))
            {
                return new($"{path}.name", "required");
            }
            if (Text(s.Name, $"{path}.name", MaxServiceNameBytes) is { } name)
            {
                return name;
            }
            if (s.UnreadableProcessCount > s.ProcessCount)
            {
                return new($"{path}.unreadable_process_count", $"{s.UnreadableProcessCount} is more than the service's process_count {s.ProcessCount}");
            }
            if ((Counter(s.OpenFds, $"{path}.open_fds") ?? Counter(s.WorstOpenFds, $"{path}.worst_open_fds")
                ?? Limit(s.WorstNofileSoft, $"{path}.worst_nofile_soft") ?? Limit(s.WorstNofileHard, $"{path}.worst_nofile_hard")
                ?? Percent(s.WorstSoftLimitPercent, $"{path}.worst_soft_limit_percent")
                ?? Fds(s.Fds, $"{path}.fds") ?? Tcp(s.Tcp, $"{path}.tcp")
                ?? Endpoints(s.CloseWaitRemotes, $"{path}.close_wait_remotes")) is { } problem)
            {
                return problem;
            }
            if (s.WorstPid < 0)
            {
                return new($"{path}.worst_pid", $"{s.WorstPid} is negative");
            }
        }
        return null;
    }

    private static ValidationProblem? ProcessesProblem(Snapshot snapshot)
    {
        for (int i = 0; i < snapshot.Processes.Count; i++)
        {
            var p = snapshot.Processes[i];
            string path = $"processes[{i}]";
            if (p.Pid <= 0)
            {
                return new($"{path}.pid", $"{p.Pid} is not a process id (must be greater than 0)");
            }
            if (p.Ppid < 0)
            {
                return new($"{path}.ppid", $"{p.Ppid} is negative");
            }
            if (!p.FdsReadable && p.OpenFds != 0)
            {
                return new($"{path}.open_fds", $"{p.OpenFds} while fds_readable is false: unreadable fds are unknown, sent as 0");
            }
            if ((Text(p.Comm, $"{path}.comm", MaxCommBytes)
                ?? Text(p.Exe, $"{path}.exe", MaxExeBytes)
                ?? Text(p.Cmdline, $"{path}.cmdline", MaxCmdlineBytes)
                ?? Text(p.Service, $"{path}.service", MaxServiceNameBytes)
                ?? Cgroup(p.Cgroup, $"{path}.cgroup")
                ?? (p.StartTime is { } st && TimestampProblem(st) is { } bad ? new ValidationProblem($"{path}.start_time", bad) : null)
                ?? Counter(p.OpenFds, $"{path}.open_fds") ?? Counter(p.StartTimeTicks, $"{path}.start_time_ticks")
                ?? Limit(p.NofileSoft, $"{path}.nofile_soft") ?? Limit(p.NofileHard, $"{path}.nofile_hard")
                ?? Counter(p.NetworkNamespace, $"{path}.network_namespace")
                ?? Fds(p.Fds, $"{path}.fds") ?? Tcp(p.Tcp, $"{path}.tcp")
                ?? Endpoints(p.CloseWaitRemotes, $"{path}.close_wait_remotes")) is { } problem)
            {
                return problem;
            }
        }
        return null;
    }

    private static ValidationProblem? Cgroup(CgroupInfo? c, string path)
    {
        if (c is null)
        {
            return null;
        }
        return Text(c.Path, $"{path}.path", MaxCgroupPathBytes)
            ?? Text(c.ContainerId, $"{path}.container_id", MaxCgroupFieldBytes)
            ?? Text(c.ContainerRuntime, $"{path}.container_runtime", MaxCgroupFieldBytes)
            ?? Text(c.ContainerName, $"{path}.container_name", MaxCgroupFieldBytes)
            ?? Text(c.KubernetesPodUid, $"{path}.kubernetes_pod_uid", MaxCgroupFieldBytes)
            ?? Text(c.KubernetesPodName, $"{path}.kubernetes_pod_name", MaxCgroupFieldBytes)
            ?? Text(c.KubernetesNamespace, $"{path}.kubernetes_namespace", MaxCgroupFieldBytes)
            ?? Text(c.SystemdUnit, $"{path}.systemd_unit", MaxCgroupFieldBytes);
    }

    private static ValidationProblem? SystemProblem(SystemFigures? s)
    {
        if (s is null)
        {
            return null;
        }
        const string P = "system";
        if (s.EphemeralPortHigh > 65_535)
        {
            return new($"{P}.ephemeral_port_high", $"{s.EphemeralPortHigh} is not a port (at most 65535)");
        }
        if (s.EphemeralPortLow > s.EphemeralPortHigh)
        {
            return new($"{P}.ephemeral_port_low", $"{s.EphemeralPortLow} is above ephemeral_port_high {s.EphemeralPortHigh}");
        }
        if (s.TcpTwReuse < -1)
        {
            return new($"{P}.tcp_tw_reuse", $"{s.TcpTwReuse} is not a setting (-1 for unknown, else 0 or more)");
        }
        if (CountProblem(s.InotifyByUser.Count, MaxInotifyUsers, $"{P}.inotify_by_user") is { } users)
        {
            return users;
        }
        if (s.TopEphemeralRemote is { } top
            && (top.Address.Length > 0 || top.Count > 0)
            && Endpoint(top, $"{P}.top_ephemeral_remote") is { } remote)
        {
            return remote;
        }
        ReadOnlySpan<ulong> values =
        [
            s.FileHandlesAllocated, s.FileHandlesMax, s.NrOpen, s.EphemeralPortsInUse, s.TcpMaxOrphans, s.TcpOrphans,
            s.TcpTimeWait, s.ConntrackCount, s.ConntrackMax, s.InotifyMaxUserInstances, s.InotifyMaxUserWatches,
        ];
        string[] names =
        [
            "file_handles_allocated", "file_handles_max", "nr_open", "ephemeral_ports_in_use", "tcp_max_orphans",
            "tcp_orphans", "tcp_time_wait", "conntrack_count", "conntrack_max", "inotify_max_user_instances",
            "inotify_max_user_watches",
        ];
        for (int i = 0; i < values.Length; i++)
        {
            if (Counter(values[i], $"{P}.{names[i]}") is { } problem)
            {
                return problem;
            }
        }
        for (int i = 0; i < s.InotifyByUser.Count; i++)
        {
            if (Counter(s.InotifyByUser[i].Instances, $"{P}.inotify_by_user[{i}].instances") is { } problem)
            {
                return problem;
            }
        }
        return null;
    }

    private static ValidationProblem? NamespacesProblem(Snapshot snapshot)
    {
        for (int i = 0; i < snapshot.NetworkNamespaces.Count; i++)
        {
            var ns = snapshot.NetworkNamespaces[i];
            if (ns.ReaderPid < 0)
            {
                return new($"network_namespaces[{i}].reader_pid", $"{ns.ReaderPid} is negative");
            }
            if ((Counter(ns.Inode, $"network_namespaces[{i}].inode") ?? Counter(ns.TcpSockets, $"network_namespaces[{i}].tcp_sockets")) is { } problem)
            {
                return problem;
            }
        }
        return null;
    }

    private static ValidationProblem? AgentCostProblem(AgentCost? cost)
    {
        if (cost is null)
        {
            return null;
        }
        if (cost.ProcessesUnreadable > cost.ProcessesSeen)
        {
            return new("agent_cost.processes_unreadable", $"{cost.ProcessesUnreadable} is more than processes_seen {cost.ProcessesSeen}");
        }
        return DurationProblem(cost.Cpu, "agent_cost.cpu")
            ?? DurationProblem(cost.Wall, "agent_cost.wall")
            ?? Counter(cost.ResidentBytes, "agent_cost.resident_bytes")
            ?? Counter(cost.FdsRead, "agent_cost.fds_read");
    }

    private static ValidationProblem? Endpoints(Google.Protobuf.Collections.RepeatedField<RemoteEndpointCount> endpoints, string path)
    {
        if (CountProblem(endpoints.Count, MaxEndpointsPerEntry, path) is { } tooMany)
        {
            return tooMany;
        }
        for (int i = 0; i < endpoints.Count; i++)
        {
            if (Endpoint(endpoints[i], $"{path}[{i}]") is { } problem)
            {
                return problem;
            }
        }
        return null;
    }

    private static ValidationProblem? Endpoint(RemoteEndpointCount e, string path)
    {
        if (!IsIpAddress(e.Address))
        {
            return new($"{path}.address", $"'{Shorten(e.Address)}' is not an IP address");
        }
        if (e.Port > 65_535)
        {
            return new($"{path}.port", $"{e.Port} is not a port (at most 65535)");
        }
        return Counter(e.Count, $"{path}.count");
    }

    /// <summary>IPv4 dotted quad or IPv6 text; not the shorthand forms IPAddress.Parse also takes ("1", "1.2").</summary>
    internal static bool IsIpAddress(string text) =>
        text.Length is > 0 and <= MaxAddressLength
        && IPAddress.TryParse(text, out var ip)
        && (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? text.Contains(':', StringComparison.Ordinal) : text.Count(c => c == '.') == 3);

    private static ValidationProblem? Fds(FdCounts? f, string path)
    {
        if (f is null)
        {
            return null;
        }
        ReadOnlySpan<ulong> values =
        [
            f.RegularFile, f.Directory, f.Pipe, f.Fifo, f.SocketTcp, f.SocketUdp, f.SocketUnix, f.SocketNetlink,
            f.SocketOther, f.CharDevice, f.BlockDevice, f.Eventpoll, f.Eventfd, f.Timerfd, f.Signalfd, f.Inotify,
            f.AnonInodeOther, f.Memfd, f.Other,
        ];
        return Counters(values, FdCountNames, path);
    }

    private static ValidationProblem? Tcp(TcpStates? t, string path)
    {
        if (t is null)
        {
            return null;
        }
        ReadOnlySpan<ulong> values =
        [
            t.Established, t.SynSent, t.SynRecv, t.FinWait1, t.FinWait2, t.TimeWait, t.Close, t.CloseWait, t.LastAck,
            t.Listen, t.Closing, t.NewSynRecv,
        ];
        return Counters(values, TcpStateNames, path);
    }

    private static ValidationProblem? Counters(ReadOnlySpan<ulong> values, string[] names, string path)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] > MaxCounter)
            {
                return new($"{path}.{names[i]}", $"{values[i]} is larger than {MaxCounter}");
            }
        }
        return null;
    }

    /// <summary>Counters are stored as bigint: at most 2^63-1.</summary>
    private static ValidationProblem? Counter(ulong value, string path) =>
        value > MaxCounter ? new(path, $"{value} is larger than {MaxCounter}") : null;

    /// <summary>A limit is a counter, or UNLIMITED (2^64-1).</summary>
    private static ValidationProblem? Limit(ulong value, string path) =>
        value > MaxCounter && value != ulong.MaxValue
            ? new(path, $"{value} is neither a limit up to {MaxCounter} nor unlimited ({ulong.MaxValue})")
            : null;

    private static ValidationProblem? Percent(double value, string path) =>
        double.IsFinite(value) && value is >= 0 and <= MaxPercent
            ? null
            : new(path, $"{value} is out of range (0 to {MaxPercent:0})");

    /// <summary>
    /// Length in UTF-8 bytes and no NUL (PostgreSQL text cannot hold it); identity strings (host names, ids) may
    /// hold no control character at all, since they end up in logs and page titles.
    /// </summary>
    private static ValidationProblem? Text(string value, string path, int maxBytes, bool identity = false)
    {
        if (value.Length == 0)
        {
            return null;
        }
        if (value.Length > maxBytes || (value.Length * 3 > maxBytes && Encoding.UTF8.GetByteCount(value) > maxBytes))
        {
            return new(path, $"{Encoding.UTF8.GetByteCount(value)} bytes, at most {maxBytes} allowed");
        }
        foreach (char c in value)
        {
            if (c == '\0')
            {
                return new(path, "contains a NUL character");
            }
            if (identity && char.IsControl(c))
            {
                return new(path, $"contains the control character U+{(int)c:X4}");
            }
        }
        return null;
    }

    /// <summary>A hostile value, cut short and stripped of control characters, for a message or a log line.</summary>
    public static string Shorten(string? value, int max = 64)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        var sb = new StringBuilder(Math.Min(value.Length, max) + 1);
        foreach (char c in value)
        {
            if (sb.Length >= max)
            {
                sb.Append('…');
                break;
            }
            sb.Append(char.IsControl(c) ? '?' : c);
        }
        return sb.ToString();
    }
}
