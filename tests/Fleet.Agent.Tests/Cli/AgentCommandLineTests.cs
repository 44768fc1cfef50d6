using Fleet.Agent.Cli;
using Fleet.Contracts.V1;
using Google.Protobuf;

namespace Fleet.Agent.Tests.Cli;

public class AgentCommandLineTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = AgentCommandLine.Run(args, new StringReader(""), output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Snapshot_OnThisHost_ReportsThisProcessAndTheHeadroom()
    {
        var (code, output, error) = Run("snapshot", "--top", "10000");

        Assert.True(code == 0, error);
        Assert.Contains("HOST HEADROOM", output, StringComparison.Ordinal);
        Assert.Contains("file handles", output, StringComparison.Ordinal);
        Assert.Contains("SERVICES", output, StringComparison.Ordinal);
        Assert.Contains("CLOSE_WAIT BY REMOTE ENDPOINT", output, StringComparison.Ordinal);
        Assert.Matches($@"(?m)^\s+{Environment.ProcessId}\s", output);
    }

    [Fact]
    public void SnapshotJson_OnThisHost_ParsesAsTheContractWithThisProcess()
    {
        var (code, output, error) = Run("snapshot", "--json");

        Assert.True(code == 0, error);
        var snapshot = JsonParser.Default.Parse<Snapshot>(output);
        var self = Assert.Single(snapshot.Processes, p => p.Pid == Environment.ProcessId);
        Assert.True(self.FdsReadable);
        Assert.True(self.OpenFds > 0);
        Assert.NotEmpty(snapshot.Host.BootId);
        Assert.NotEmpty(snapshot.Services);
        Assert.True(snapshot.System.FileHandlesMax > 0);
    }

    [Fact]
    public void Snapshot_WithRulesFile_NamesServicesByTheRule()
    {
        string rules = Path.GetTempFileName();
        try
        {
            File.WriteAllText(rules, """{"groupingRules":[{"field":"FIELD_COMM","pattern":"^(.+)$","serviceTemplate":"rule-$1"}]}""");

            var (code, output, error) = Run("snapshot", "--json", "--rules", rules);

            Assert.True(code == 0, error);
            var snapshot = JsonParser.Default.Parse<Snapshot>(output);
            Assert.All(snapshot.Services, s => Assert.StartsWith("rule-", s.Name, StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(rules);
        }
    }

    [Theory]
    [InlineData(new[] { "snapshot", "--bogus" }, "unknown option '--bogus'")]
    [InlineData(new[] { "snapshot", "--top", "0" }, "--top takes a whole number from 1 to 10000, not '0'")]
    [InlineData(new[] { "snapshot", "--procfs" }, "--procfs needs a value")]
    [InlineData(new[] { "explode" }, "unknown command 'explode'")]
    public void BadArguments_ExitTwoWithAMessageNamingTheProblem(string[] args, string message)
    {
        var (code, _, error) = Run(args);

        Assert.Equal(2, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Snapshot_WithMissingProcfsRoot_ExitsOneNamingThePath()
    {
        var (code, _, error) = Run("snapshot", "--procfs", "/nonexistent/proc");

        Assert.Equal(1, code);
        Assert.Contains("'/nonexistent/proc'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Snapshot_WithMalformedRulesFile_ExitsTwoNamingTheFile()
    {
        string rules = Path.GetTempFileName();
        try
        {
            File.WriteAllText(rules, "{ not json");

            var (code, _, error) = Run("snapshot", "--rules", rules);

            Assert.Equal(2, code);
            Assert.Contains(rules, error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(rules);
        }
    }

    [Fact]
    public void Measure_AnswersEachCollectWithOneJsonLineIncludingTheProcess()
    {
        var output = new StringWriter();
        int code = AgentCommandLine.Run(["measure"], new StringReader($"collect\ncollect {Environment.ProcessId}\nquit\n"), output, TextWriter.Null);

        Assert.Equal(0, code);
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using var second = System.Text.Json.JsonDocument.Parse(lines[1]);
        Assert.True(second.RootElement.GetProperty("pid").GetProperty("open_fds").GetUInt64() > 0);
        Assert.True(second.RootElement.GetProperty("processes").GetInt32() > 0);
    }
}
