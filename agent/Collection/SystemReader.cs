using Fleet.Agent.Collection.Procfs;

namespace Fleet.Agent.Collection;

/// <summary>Reads the host's own limits and headroom from /proc/sys and /proc/net/sockstat.</summary>
internal sealed class SystemReader
{
    private byte[] _buffer = new byte[4096];

    public void Read(ProcDir root, SystemInfo into, ref uint malformed)
    {
        Span<ulong> v = stackalloc ulong[3];
        if (Read(root, "sys/fs/file-nr"u8) is { } fileNr)
        {
            if (ProcParsers.ParseNumbers(fileNr, v) == 3)
            {
                into.FileHandlesAllocated = v[0] - v[1];
                into.FileHandlesMax = v[2];
            }
            else
            {
                malformed++;
            }
        }
        into.NrOpen = Number(root, "sys/fs/nr_open"u8, ref malformed) ?? 0;
        if (Read(root, "sys/net/ipv4/ip_local_port_range"u8) is { } range)
        {
            if (ProcParsers.ParseNumbers(range, v[..2]) == 2 && v[0] <= 65535 && v[1] <= 65535)
            {
                into.EphemeralLow = (uint)v[0];
                into.EphemeralHigh = (uint)v[1];
            }
            else
            {
                malformed++;
            }
        }
        into.TcpMaxOrphans = Number(root, "sys/net/ipv4/tcp_max_orphans"u8, ref malformed) ?? 0;
        into.TcpFinTimeoutSeconds = (uint)(Number(root, "sys/net/ipv4/tcp_fin_timeout"u8, ref malformed) ?? 0);
        into.TcpTwReuse = Number(root, "sys/net/ipv4/tcp_tw_reuse"u8, ref malformed) is { } reuse ? (int)reuse : -1;
        var count = Number(root, "sys/net/netfilter/nf_conntrack_count"u8, ref malformed);
        var max = Number(root, "sys/net/netfilter/nf_conntrack_max"u8, ref malformed);
        into.ConntrackPresent = count.HasValue && max.HasValue;
        into.ConntrackCount = count ?? 0;
        into.ConntrackMax = max ?? 0;
        into.InotifyMaxUserInstances = Number(root, "sys/fs/inotify/max_user_instances"u8, ref malformed) ?? 0;
        into.InotifyMaxUserWatches = Number(root, "sys/fs/inotify/max_user_watches"u8, ref malformed) ?? 0;
    }

    /// <summary>Orphans (a host-wide counter) and TIME_WAIT of the namespace read through <paramref name="pidDir"/>.</summary>
    public void ReadSockstat(ProcDir pidDir, SystemInfo into)
    {
        if (Read(pidDir, "net/sockstat"u8) is { } sockstat)
        {
            if (ProcParsers.TryFindLabeledValue(sockstat, "TCP:"u8, "orphan"u8, out ulong orphans))
            {
                into.TcpOrphans = orphans;
            }
            if (ProcParsers.TryFindLabeledValue(sockstat, "TCP:"u8, "tw"u8, out ulong tw))
            {
                into.TcpTimeWait = tw;
            }
        }
    }

    public HostInfo ReadHost(ProcDir root, string machineIdPath)
    {
        string machineId = "";
        try
        {
            machineId = File.Exists(machineIdPath) ? File.ReadAllText(machineIdPath).Trim() : "";
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return new HostInfo(
            TextSanitizer.Clean(System.Text.Encoding.UTF8.GetBytes(machineId), 64, out _),
            Line(root, "sys/kernel/random/boot_id"u8),
            Line(root, "sys/kernel/hostname"u8),
            Line(root, "sys/kernel/osrelease"u8));
    }

    /// <summary>btime from /proc/stat: the boot time, to turn process start ticks into a wall-clock time.</summary>
    public DateTimeOffset? ReadBootTime(ProcDir root)
    {
        if (Read(root, "stat"u8, 1 << 20) is { } stat && FindBtime(stat) is { } btime)
        {
            return DateTimeOffset.FromUnixTimeSeconds((long)btime);
        }
        return null;
    }

    private static ulong? FindBtime(ReadOnlySpan<byte> stat)
    {
        int at = stat.IndexOf("\nbtime "u8);
        if (at < 0)
        {
            return null;
        }
        var rest = stat[(at + 7)..];
        int nl = rest.IndexOf((byte)'\n');
        return ProcParsers.TryParseULong(nl >= 0 ? rest[..nl] : rest, out ulong value) ? value : null;
    }

    private string Line(ProcDir root, ReadOnlySpan<byte> name) =>
        Read(root, name) is { } text ? ProcParsers.FirstLine(text) : "";

    private ulong? Number(ProcDir root, ReadOnlySpan<byte> name, ref uint malformed)
    {
        if (Read(root, name) is not { } text)
        {
            return null;
        }
        if (ProcParsers.TryParseSysctl(text, out ulong value))
        {
            return value;
        }
        malformed++;
        return null;
    }

    private byte[]? Read(ProcDir dir, ReadOnlySpan<byte> name, int max = 64 * 1024)
    {
        int n = dir.ReadFile(name, ref _buffer, max);
        return n < 0 ? null : _buffer.AsSpan(0, n).ToArray();
    }
}
