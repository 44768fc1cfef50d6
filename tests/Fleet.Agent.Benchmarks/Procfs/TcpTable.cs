using System.Globalization;

namespace Fleet.Agent.Benchmarks.Procfs;

/// <summary>One row of /proc/net/tcp or tcp6. Inode 0 means no fd holds the socket (an orphan or TIME_WAIT).</summary>
internal readonly record struct TcpEntry(ulong Inode, string State, string Local, string Remote);

/// <summary>Reads a network namespace's TCP tables, naming states as the agent does.</summary>
internal static class TcpTable
{
    private static readonly string[] StateNames =
    [
        "Unknown", "Established", "SynSent", "SynRecv", "FinWait1", "FinWait2", "TimeWait",
        "Close", "CloseWait", "LastAck", "Listen", "Closing", "NewSynRecv",
    ];

    /// <summary>Both tables of the namespace that <paramref name="netDirectory"/> (/proc/net, /proc/PID/net) shows.</summary>
    public static List<TcpEntry> ReadNamespace(string netDirectory)
    {
        var entries = new List<TcpEntry>();
        foreach (string table in new[] { "tcp", "tcp6" })
        {
            string path = Path.Combine(netDirectory, table);
            if (File.Exists(path))
            {
                entries.AddRange(Read(path));
            }
        }
        return entries;
    }

    private static IEnumerable<TcpEntry> Read(string path)
    {
        foreach (string line in File.ReadLines(path).Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 10)
            {
                continue;
            }
            int state = int.Parse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            yield return new TcpEntry(
                ulong.Parse(fields[9], CultureInfo.InvariantCulture),
                state < StateNames.Length ? StateNames[state] : "Unknown",
                FormatEndpoint(fields[1]),
                FormatEndpoint(fields[2]));
        }
    }

    /// <summary>
    /// "0100007F:9C41" → "127.0.0.1:40001". The kernel prints the address as the 32-bit words of network
    /// order bytes in host (little-endian) order; an IPv4-mapped IPv6 address is shown as IPv4.
    /// </summary>
    public static string FormatEndpoint(string hex)
    {
        int colon = hex.IndexOf(':', StringComparison.Ordinal);
        int port = int.Parse(hex.AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var address = hex.AsSpan(0, colon);
        var bytes = new byte[address.Length / 2];
        for (int word = 0; word < bytes.Length / 4; word++)
        {
            uint value = uint.Parse(address.Slice(word * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            BitConverter.TryWriteBytes(bytes.AsSpan(word * 4, 4), value);
            if (!BitConverter.IsLittleEndian)
            {
                bytes.AsSpan(word * 4, 4).Reverse();
            }
        }
        var ip = new System.Net.IPAddress(bytes);
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }
        return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]:{port}" : $"{ip}:{port}";
    }
}
