using System.Globalization;
using System.Text.Json;
using Fleet.Agent.Collection;

namespace Fleet.Agent.Cli;

/// <summary>
/// The benchmark runner drives one long-lived agent through stdin: "collect [PID]" answers with one JSON
/// line of the collection's own cost (and that process's figures, to check they are exact); "quit" ends.
/// </summary>
internal static class MeasureDriver
{
    public static int Run(AgentOptions options, TextReader input, TextWriter output)
    {
        var collector = new HostCollector(options.Collector);
        string? line;
        while ((line = input.ReadLine()) is not null)
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }
            if (words[0] == "quit")
            {
                return 0;
            }
            if (words[0] != "collect")
            {
                output.WriteLine(ErrorLine("error", $"unknown command '{words[0]}'"));
                output.Flush();
                continue;
            }
            int? pid = words.Length > 1 && int.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : null;
            var collection = collector.Collect();
            output.WriteLine(Describe(collection, pid));
            output.Flush();
        }
        return 0;
    }

    private static string ErrorLine(string key, string value)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString(key, value);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    public static string Describe(HostCollection c, int? pid)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteNumber("cpu_us", (long)(c.Stats.Cpu.Ticks / 10));
            w.WriteNumber("wall_us", (long)(c.Stats.Wall.Ticks / 10));
            w.WriteNumber("rss_bytes", c.Stats.ResidentBytes);
            w.WriteNumber("processes", c.Stats.ProcessesSeen);
            w.WriteNumber("rescanned", c.Stats.ProcessesRescanned);
            w.WriteNumber("fds_read", c.Stats.FdsRead);
            w.WriteNumber("vanished", c.Stats.ProcessesVanished);
            w.WriteNumber("unreadable", c.Stats.ProcessesUnreadable);
            var gc = GC.GetGCMemoryInfo();
            w.WriteNumber("gc_heap", gc.HeapSizeBytes);
            w.WriteNumber("gc_committed", gc.TotalCommittedBytes);
            w.WriteNumber("gc_count", GC.CollectionCount(0));
            if (pid is { } wanted)
            {
                w.WritePropertyName("pid");
                var p = c.Processes.FirstOrDefault(x => x.Pid == wanted);
                if (p is null)
                {
                    w.WriteNullValue();
                }
                else
                {
                    WriteProcess(w, p);
                }
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteProcess(Utf8JsonWriter w, ProcessRecord p)
    {
        w.WriteStartObject();
        w.WriteNumber("open_fds", p.OpenFds);
        w.WriteStartObject("fds");
        foreach (var kind in Enum.GetValues<FdKind>())
        {
            if (p.Fds[kind] > 0)
            {
                w.WriteNumber(kind.ToString(), p.Fds[kind]);
            }
        }
        w.WriteEndObject();
        w.WriteStartObject("tcp");
        foreach (var state in Enum.GetValues<TcpState>())
        {
            if (p.Tcp[state] > 0)
            {
                w.WriteNumber(state.ToString(), p.Tcp[state]);
            }
        }
        w.WriteEndObject();
        w.WriteStartObject("close_wait_remotes");
        foreach (var (remote, count) in p.CloseWaitRemotes)
        {
            w.WriteNumber(remote.ToString(), count);
        }
        w.WriteEndObject();
        w.WriteNumber("nofile_soft", p.NofileSoft);
        w.WriteNumber("nofile_hard", p.NofileHard);
        w.WriteEndObject();
    }
}
