using Fleet.Web.Components.Admin;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;

namespace Fleet.Web.Tests.Admin;

public sealed class AgentsPageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task CreateToken_ShowsTheSecretOnceWithTheExactAgentCommand()
    {
        var hint = new AgentEndpointHint("https://fleet.example.net:5081", "--ca-file /etc/fleet/ca.pem");
        await using var t = AccessContext.Create(hint: hint);
        var cut = t.Ctx.Render<AgentsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-enrollment-tokens]"), Wait);

        cut.Find("input[data-testid=enroll-name]").Change("web hosts");
        cut.Find("[data-testid=enroll-create]").Click();

        cut.WaitForAssertion(() => Assert.Equal("fleet_enroll_secret1", cut.Find("[data-testid=secret-value]").TextContent), Wait);
        Assert.Equal(
            "fleet-agent run --server https://fleet.example.net:5081 --token-file /etc/fleet/agent.token --state-dir /var/lib/fleet-agent --ca-file /etc/fleet/ca.pem",
            cut.Find("[data-testid=enroll-command]").TextContent);
        Assert.Equal("printf '%s' 'fleet_enroll_secret1' | sudo install -D -m 600 /dev/stdin /etc/fleet/agent.token", cut.Find("[data-testid=enroll-write-token]").TextContent);
        Assert.Contains("not shown again", cut.Find("[data-testid=secret-once]").TextContent, StringComparison.Ordinal);
        var row = cut.Find("[data-testid=enrollment-row]");
        Assert.Equal("web hosts", row.GetAttribute("data-token-name"));
        Assert.Contains(AccessContext.UserName, row.TextContent, StringComparison.Ordinal);
        Assert.Equal(("created", "web hosts", AccessContext.UserName), Assert.Single(t.Enrollment.Changes));

        cut.Find("[data-testid=secret-done]").Click();

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=secret-once]")), Wait);
        Assert.DoesNotContain("fleet_enroll_secret1", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateToken_WithoutAHint_ShowsAPlaceholderServer()
    {
        await using var t = AccessContext.Create();
        var cut = t.Ctx.Render<AgentsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-enrollment-tokens]"), Wait);

        cut.Find("input[data-testid=enroll-name]").Change("db hosts");
        cut.Find("[data-testid=enroll-create]").Click();

        cut.WaitForAssertion(() => Assert.StartsWith($"fleet-agent run --server {AgentEndpointHint.Placeholder.ServerUrl} --token-file ", cut.Find("[data-testid=enroll-command]").TextContent, StringComparison.Ordinal), Wait);
    }

    [Fact]
    public async Task CreateToken_WithoutAName_SaysSoAndCreatesNothing()
    {
        await using var t = AccessContext.Create();
        var cut = t.Ctx.Render<AgentsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-enrollment-tokens]"), Wait);

        cut.Find("[data-testid=enroll-create]").Click();

        cut.WaitForAssertion(() => Assert.Contains("Give the token a name", cut.Markup, StringComparison.Ordinal), Wait);
        Assert.Empty(t.Enrollment.Changes);
        Assert.Empty(cut.FindAll("[data-testid=secret-once]"));
    }

    [Fact]
    public async Task Revoke_WarnsThatItsAgentsAreCutOffAtOnce_ThenShowsThemStale()
    {
        await using var t = AccessContext.Create();
        var token = t.Enrollment.AddToken("web hosts");
        t.Enrollment.AddAgent("web-1", token);
        t.Enrollment.AddAgent("web-2", token);
        var cut = t.Ctx.Render<AgentsPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=agent-live]").Count), Wait);
        Assert.Equal("2", cut.Find("[data-testid=enrollment-agents]").TextContent);

        cut.Find("[data-testid=enroll-revoke]").Click();
        t.Dialogs.WaitForAssertion(() => Assert.Contains("The 2 agents using it are cut off at once", t.Dialogs.Markup, StringComparison.Ordinal), Wait);
        t.Dialogs.Find("[data-testid=confirm-revoke]").Click();

        cut.WaitForAssertion(() => Assert.Equal("true", cut.Find("[data-testid=enrollment-row]").GetAttribute("data-revoked")), Wait);
        Assert.Equal(2, cut.FindAll("[data-testid=agent-stale]").Count);
        Assert.Equal(2, cut.FindAll("[data-testid=agent-token-revoked]").Count);
        Assert.Empty(cut.FindAll("[data-testid=enroll-revoke]"));
        Assert.Equal(("revoked", "web hosts", AccessContext.UserName), Assert.Single(t.Enrollment.Changes));
    }

    [Fact]
    public async Task Revoke_Cancelled_KeepsTheToken()
    {
        await using var t = AccessContext.Create();
        t.Enrollment.AddToken("web hosts");
        var cut = t.Ctx.Render<AgentsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=enroll-revoke]"), Wait);

        cut.Find("[data-testid=enroll-revoke]").Click();
        t.Dialogs.WaitForElement("[data-testid=confirm-cancel]", Wait).Click();

        cut.WaitForAssertion(() => Assert.Empty(t.Dialogs.FindAll("[data-testid=confirm-cancel]")), Wait);
        Assert.Equal("false", cut.Find("[data-testid=enrollment-row]").GetAttribute("data-revoked"));
        Assert.Empty(t.Enrollment.Changes);
    }

    [Fact]
    public async Task Agents_ShowHostVersionAddressTokenAndWhetherConnectedNow()
    {
        await using var t = AccessContext.Create();
        var token = t.Enrollment.AddToken("web hosts");
        t.Enrollment.AddAgent("web-1", token, connected: true, version: "1.4.0");
        t.Enrollment.AddAgent("web-2", token, connected: false, version: "1.3.2");

        var cut = t.Ctx.Render<AgentsPage>();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=agent-row]").Count), Wait);
        var web2 = cut.Find("[data-testid=agent-row][data-host='web-2']");
        Assert.NotNull(web2.QuerySelector("[data-testid=agent-stale]"));
        Assert.Contains("1.3.2", web2.TextContent, StringComparison.Ordinal);
        Assert.Contains("10.0.0.7:51234", web2.TextContent, StringComparison.Ordinal);
        Assert.Contains("web hosts", web2.TextContent, StringComparison.Ordinal);
        Assert.Contains("agent-web-2", web2.TextContent, StringComparison.Ordinal);
        Assert.NotNull(cut.Find("[data-testid=agent-row][data-host='web-1']").QuerySelector("[data-testid=agent-live]"));
    }
}
