using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;

namespace Fleet.Agent.Collection.Procfs;

/// <summary>/proc/PID/stat fields the collector uses.</summary>
internal readonly record struct ProcStat(string Comm, char State, int Ppid, uint Flags, uint Threads, ulong StartTicks)
{
    public const uint PfKthread = 0x00200000;
    public bool IsKernelThread => (Flags & PfKthread) != 0;

    /// <summary>Zombie (Z) or dead (X): exited, fds already closed.</summary>
    public bool HasExited => State is 'Z' or 'X';
}

/// <summary>
/// Pure parsers for the text formats of procfs, working on bytes with invariant rules. Each returns
/// false for a malformed input, which the caller skips and counts.
/// </summary>
internal static class ProcParsers
{
    /// <summary>Parses /proc/PID/stat. The comm may contain spaces and parentheses: it ends at the last ')'.</summary>
    public static bool TryParseStat(ReadOnlySpan<byte> text, out ProcStat stat)
    {
        stat = default;
        int open = text.IndexOf((byte)'(');
        int close = text.LastIndexOf((byte)')');
        if (open < 0 || close < open || close + 2 >= text.Length)
        {
            return false;
        }
        string comm = TextSanitizer.Clean(text[(open + 1)..close], 64, out _);
        var rest = text[(close + 2)..];
        // rest: state(3) ppid(4) pgrp session tty_nr tpgid flags(9) minflt cminflt majflt cmajflt utime stime
        //       cutime cstime priority nice num_threads(20) itrealvalue starttime(22)
        Span<Range> fields = stackalloc Range[21];
        int n = SplitWhitespace(rest, fields);
        if (n < 20)
        {
            return false;
        }
        var stateField = rest[fields[0]];
        if (stateField.Length != 1
            || !TryParseInt(rest[fields[1]], out int ppid)
            || !TryParseUInt(rest[fields[6]], out uint flags)
            || !TryParseUInt(rest[fields[17]], out uint threads)
            || !TryParseULong(rest[fields[19]], out ulong start))
        {
            return false;
        }
        stat = new ProcStat(comm, (char)stateField[0], ppid, flags, threads, start);
        return true;
    }

    /// <summary>Finds "Max open files  soft  hard  files" in /proc/PID/limits; "unlimited" is ulong.MaxValue.</summary>
    public static bool TryParseNofile(ReadOnlySpan<byte> limits, out ulong soft, out ulong hard)
    {
        soft = hard = 0;
        int at = limits.IndexOf("Max open files"u8);
        if (at < 0)
        {
            return false;
        }
        var line = limits[(at + "Max open files".Length)..];
        int nl = line.IndexOf((byte)'\n');
        if (nl >= 0)
        {
            line = line[..nl];
        }
        Span<Range> parts = stackalloc Range[4];
        int count = SplitWhitespace(line, parts);
        return count >= 2 && TryParseLimit(line[parts[0]], out soft) && TryParseLimit(line[parts[1]], out hard);
    }

    private static bool TryParseLimit(ReadOnlySpan<byte> s, out ulong value)
    {
        if (s.SequenceEqual("unlimited"u8))
        {
            value = ulong.MaxValue;
            return true;
        }
        return TryParseULong(s, out value);
    }

    /// <summary>The effective uid from the "Uid:" line of /proc/PID/status.</summary>
    public static bool TryParseStatusEuid(ReadOnlySpan<byte> status, out uint euid)
    {
        euid = 0;
        int at = status.IndexOf("\nUid:"u8);
        if (at < 0)
        {
            return false;
        }
        var line = status[(at + 5)..];
        int nl = line.IndexOf((byte)'\n');
        if (nl >= 0)
        {
            line = line[..nl];
        }
        Span<Range> parts = stackalloc Range[4];
        int count = SplitWhitespace(line, parts);
        return count >= 2 && TryParseUInt(line[parts[1]], out euid);
    }

    /// <summary>Sums the first figure (run time in ns) of /proc/PID/task/TID/schedstat.</summary>
    public static bool TryParseSchedstatRuntime(ReadOnlySpan<byte> text, out ulong runtimeNs)
    {
        int sp = text.IndexOf((byte)' ');
        return TryParseULong(sp < 0 ? text.TrimEnd((byte)'\n') : text[..sp], out runtimeNs);
    }

    /// <summary>Parses the inode out of a namespace link such as "net:[4026531840]".</summary>
    public static bool TryParseBracketInode(ReadOnlySpan<byte> link, ReadOnlySpan<byte> prefix, out ulong inode)
    {
        inode = 0;
        if (!link.StartsWith(prefix) || link.Length < prefix.Length + 2 || link[^1] != (byte)']')
        {
            return false;
        }
        return TryParseULong(link[prefix.Length..^1], out inode);
    }

    /// <summary>
    /// Parses one line of /proc/net/tcp or tcp6:
    /// "  sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  timeout inode ...".
    /// Returns false for the header and for malformed lines.
    /// </summary>
    public static bool TryParseTcpLine(ReadOnlySpan<byte> line, out TcpSocket socket)
    {
        socket = default;
        Span<Range> f = stackalloc Range[11];
        int n = SplitWhitespace(line, f);
        if (n < 10)
        {
            return false;
        }
        if (!TryParseEndpoint(line[f[1]], out var local)
            || !TryParseEndpoint(line[f[2]], out var remote)
            || !TryParseHexByte(line[f[3]], out byte state)
            || state is 0 or > 12
            || !TryParseULong(line[f[9]], out ulong inode))
        {
            return false;
        }
        socket = new TcpSocket(inode, (TcpState)state, local, remote);
        return true;
    }

    /// <summary>The inode column of /proc/net/udp, udp6, raw, raw6 (column 10), or -1 on a malformed line.</summary>
    public static bool TryParseInetInode(ReadOnlySpan<byte> line, out ulong inode)
    {
        inode = 0;
        Span<Range> f = stackalloc Range[11];
        int n = SplitWhitespace(line, f);
        return n >= 10 && line[f[0]].EndsWith(":"u8) && TryParseULong(line[f[9]], out inode);
    }

    /// <summary>The inode column of /proc/net/unix (7th field; "Num RefCount Protocol Flags Type St Inode Path").</summary>
    public static bool TryParseUnixInode(ReadOnlySpan<byte> line, out ulong inode)
    {
        inode = 0;
        Span<Range> f = stackalloc Range[8];
        int n = SplitWhitespace(line, f);
        return n >= 7 && line[f[0]].EndsWith(":"u8) && TryParseULong(line[f[6]], out inode);
    }

    /// <summary>The inode column of /proc/net/netlink ("sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode").</summary>
    public static bool TryParseNetlinkInode(ReadOnlySpan<byte> line, out ulong inode)
    {
        inode = 0;
        Span<Range> f = stackalloc Range[11];
        int n = SplitWhitespace(line, f);
        return n >= 10 && !line[f[0]].SequenceEqual("sk"u8) && TryParseULong(line[f[9]], out inode);
    }

    /// <summary>The inode column of /proc/net/packet ("sk RefCnt Type Proto Iface R Rmem User Inode").</summary>
    public static bool TryParsePacketInode(ReadOnlySpan<byte> line, out ulong inode)
    {
        inode = 0;
        Span<Range> f = stackalloc Range[10];
        int n = SplitWhitespace(line, f);
        return n >= 9 && !line[f[0]].SequenceEqual("sk"u8) && TryParseULong(line[f[8]], out inode);
    }

    /// <summary>"0100007F:1F90" (IPv4) or 32 hex digits and a port (IPv6), in the kernel's host-order words.</summary>
    public static bool TryParseEndpoint(ReadOnlySpan<byte> text, out Endpoint endpoint)
    {
        endpoint = default;
        int colon = text.IndexOf((byte)':');
        if (colon < 0 || !TryParseHex(text[(colon + 1)..], out ulong port) || port > ushort.MaxValue)
        {
            return false;
        }
        var addr = text[..colon];
        if (addr.Length == 8)
        {
            if (!TryParseHex(addr, out ulong word))
            {
                return false;
            }
            endpoint = new Endpoint(HostWordToNetwork((uint)word), true, (ushort)port);
            return true;
        }
        if (addr.Length == 32)
        {
            UInt128 value = 0;
            for (int i = 0; i < 4; i++)
            {
                if (!TryParseHex(addr.Slice(i * 8, 8), out ulong word))
                {
                    return false;
                }
                value = (value << 32) | HostWordToNetwork((uint)word);
            }
            // IPv4-mapped (::ffff:a.b.c.d) is shown as the IPv4 address it is.
            if (value >> 32 == 0xFFFF)
            {
                endpoint = new Endpoint((uint)value, true, (ushort)port);
            }
            else
            {
                endpoint = new Endpoint(value, false, (ushort)port);
            }
            return true;
        }
        return false;
    }

    // The kernel prints each 32-bit word of the address as a native integer; on little-endian hosts the
    // network-order bytes come out reversed.
    private static uint HostWordToNetwork(uint word) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(word) : word;

    /// <summary>Splits on runs of spaces and tabs; returns how many fields were found (at most parts.Length).</summary>
    public static int SplitWhitespace(ReadOnlySpan<byte> line, Span<Range> parts)
    {
        int count = 0;
        int i = 0;
        while (i < line.Length && count < parts.Length)
        {
            while (i < line.Length && (line[i] == (byte)' ' || line[i] == (byte)'\t'))
            {
                i++;
            }
            if (i >= line.Length)
            {
                break;
            }
            int start = i;
            while (i < line.Length && line[i] != (byte)' ' && line[i] != (byte)'\t')
            {
                i++;
            }
            parts[count++] = new Range(start, i);
        }
        return count;
    }

    public static bool TryParseULong(ReadOnlySpan<byte> s, out ulong value) =>
        Utf8Parser.TryParse(s, out value, out int used) && used == s.Length && s.Length > 0;

    public static bool TryParseUInt(ReadOnlySpan<byte> s, out uint value) =>
        Utf8Parser.TryParse(s, out value, out int used) && used == s.Length && s.Length > 0;

    public static bool TryParseInt(ReadOnlySpan<byte> s, out int value) =>
        Utf8Parser.TryParse(s, out value, out int used) && used == s.Length && s.Length > 0;

    public static bool TryParseHex(ReadOnlySpan<byte> s, out ulong value) =>
        Utf8Parser.TryParse(s, out value, out int used, 'X') && used == s.Length && s.Length > 0;

    private static bool TryParseHexByte(ReadOnlySpan<byte> s, out byte value)
    {
        value = 0;
        if (!TryParseHex(s, out ulong v) || v > 255)
        {
            return false;
        }
        value = (byte)v;
        return true;
    }

    /// <summary>Reads "N" or "N\n" (a sysctl file) as a number.</summary>
    public static bool TryParseSysctl(ReadOnlySpan<byte> text, out ulong value) =>
        TryParseULong(text.TrimEnd("\n "u8), out value);

    /// <summary>Reads the whitespace-separated numbers of a sysctl file such as fs.file-nr or ip_local_port_range.</summary>
    public static int ParseNumbers(ReadOnlySpan<byte> text, Span<ulong> values)
    {
        Span<Range> parts = stackalloc Range[values.Length];
        var line = text.TrimEnd("\n "u8);
        int n = SplitWhitespace(line, parts);
        for (int i = 0; i < n; i++)
        {
            if (!TryParseULong(line[parts[i]], out values[i]))
            {
                return i;
            }
        }
        return n;
    }

    /// <summary>Finds "KEY value" in a "Label: k v k v" block such as /proc/net/sockstat's "TCP:" line.</summary>
    public static bool TryFindLabeledValue(ReadOnlySpan<byte> text, ReadOnlySpan<byte> label, ReadOnlySpan<byte> key, out ulong value)
    {
        value = 0;
        int at = text.IndexOf(label);
        if (at < 0)
        {
            return false;
        }
        var line = text[(at + label.Length)..];
        int nl = line.IndexOf((byte)'\n');
        if (nl >= 0)
        {
            line = line[..nl];
        }
        Span<Range> parts = stackalloc Range[32];
        int n = SplitWhitespace(line, parts);
        for (int i = 0; i + 1 < n; i += 2)
        {
            if (line[parts[i]].SequenceEqual(key))
            {
                return TryParseULong(line[parts[i + 1]], out value);
            }
        }
        return false;
    }

    /// <summary>The first line of a file as clean text.</summary>
    public static string FirstLine(ReadOnlySpan<byte> text, int maxBytes = 256)
    {
        int nl = text.IndexOf((byte)'\n');
        return TextSanitizer.Clean(nl >= 0 ? text[..nl] : text, maxBytes, out _);
    }
}

/// <summary>
/// Turns bytes from /proc (which a process controls: comm, cmdline, paths) into bounded, printable text:
/// invalid UTF-8 becomes U+FFFD, NULs (argument separators) become spaces, other control characters '?'.
/// </summary>
internal static class TextSanitizer
{
    public static string Clean(ReadOnlySpan<byte> bytes, int maxBytes, out bool truncated)
    {
        // A trailing NUL ends the last argument of a cmdline: it is not content that was cut.
        if (!bytes.IsEmpty && bytes[^1] == 0)
        {
            bytes = bytes[..^1];
        }
        truncated = bytes.Length > maxBytes;
        if (truncated)
        {
            bytes = bytes[..maxBytes];
        }
        while (!bytes.IsEmpty && bytes[^1] == 0)
        {
            bytes = bytes[..^1];
        }
        bool clean = true;
        foreach (byte b in bytes)
        {
            if (b < 0x20 || b >= 0x7F)
            {
                clean = false;
                break;
            }
        }
        if (clean)
        {
            return Encoding.ASCII.GetString(bytes);
        }
        string s = Encoding.UTF8.GetString(bytes);
        return string.Create(s.Length, s, static (span, src) =>
        {
            for (int i = 0; i < src.Length; i++)
            {
                char c = src[i];
                span[i] = c == '\0' ? ' ' : char.IsControl(c) ? '?' : c;
            }
        });
    }
}
