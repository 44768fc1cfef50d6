using System.Globalization;
using Fleet.Agent.Benchmarks.Procfs;

namespace Fleet.Agent.Benchmarks.Workload;

/// <summary>
/// Parses a client holder's account of itself:
/// "report open_fds=N fd.KIND=N ... tcp.STATE=N ... nofile_soft=N nofile_hard=N cw.ADDRESS:PORT=N ...".
/// </summary>
internal static class HolderReport
{
    private const string Prefix = "report ";

    public static ProcessFigures Parse(string line)
    {
        if (!line.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new SetupException($"a holder answered '{line}' where a report was expected");
        }
        long open = 0, soft = -1, hard = -1;
        var fds = new Dictionary<string, long>(StringComparer.Ordinal);
        var tcp = new Dictionary<string, long>(StringComparer.Ordinal);
        var remotes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string pair in line[Prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.LastIndexOf('=');
            string key = pair[..equals];
            long value = long.Parse(pair.AsSpan(equals + 1), CultureInfo.InvariantCulture);
            switch (key)
            {
                case "open_fds":
                    open = value;
                    break;
                case "nofile_soft":
                    soft = value;
                    break;
                case "nofile_hard":
                    hard = value;
                    break;
                default:
                    var table = key.StartsWith("fd.", StringComparison.Ordinal) ? fds
                        : key.StartsWith("tcp.", StringComparison.Ordinal) ? tcp
                        : key.StartsWith("cw.", StringComparison.Ordinal) ? remotes
                        : throw new SetupException($"a holder reported an unknown figure '{key}'");
                    table[key[(key.IndexOf('.', StringComparison.Ordinal) + 1)..]] = value;
                    break;
            }
        }
        return new ProcessFigures(open, fds, tcp, remotes, soft, hard);
    }
}
