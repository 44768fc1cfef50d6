using Fleet.Agent.Collection;
using Fleet.Agent.Grouping;
using Fleet.Contracts.V1;

namespace Fleet.Agent.Tests.Grouping;

public class ServiceGrouperTests
{
    private static ProcessRecord Process(string comm = "app", string exe = "/usr/bin/app", string cmdline = "app", CgroupDetails? cgroup = null) =>
        new() { Pid = 42, StartTicks = 1, Comm = comm, Exe = exe, Cmdline = cmdline, Cgroup = cgroup ?? CgroupDetails.Empty };

    private static GroupingRule Rule(GroupingRule.Types.Field field, string pattern, string template) =>
        new() { Field = field, Pattern = pattern, ServiceTemplate = template };

    [Fact]
    public void Name_WithMatchingCmdlineRule_UsesCaptureGroupsAndComesBeforeKubernetes()
    {
        var grouper = new ServiceGrouper([Rule(GroupingRule.Types.Field.Cmdline, @"java .*-jar (?:\S*/)?(?<app>[^/\s]+)\.jar", "jvm-${app}")]);
        var pod = new CgroupDetails("/kubepods/pod1", "c1", "containerd", "0a1b2c3d-0000-0000-0000-000000000000", "") { KubernetesPodName = "payments-7d9f8b6c4-x2k9p" };

        var (name, source) = grouper.Name(Process(comm: "java", cmdline: "java -Xmx1g -jar /opt/payments.jar --port 8080", cgroup: pod));

        Assert.Equal("jvm-payments", name);
        Assert.Equal(ServiceSource.Rule, source);
    }

    [Fact]
    public void Name_WithRulesInOrder_FirstMatchingRuleWins()
    {
        var grouper = new ServiceGrouper([
            Rule(GroupingRule.Types.Field.Comm, "^nomatch$", "never"),
            Rule(GroupingRule.Types.Field.Exe, @"/opt/(\w+)/bin/", "$1"),
            Rule(GroupingRule.Types.Field.Comm, ".*", "catch-all"),
        ]);

        Assert.Equal("billing", grouper.Name(Process(exe: "/opt/billing/bin/server")).Name);
        Assert.Equal("catch-all", grouper.Name(Process(exe: "/usr/bin/other")).Name);
    }

    [Theory]
    [InlineData("checkout-7d9f8b6c4-x2k9p", "checkout")]
    [InlineData("checkout-api-5c4b7f9d8d-qwx7z", "checkout-api")]
    [InlineData("fluent-bit-x2k9p", "fluent-bit")]
    [InlineData("postgres-0", "postgres")]
    [InlineData("standalone", "standalone")]
    public void Name_InKubernetesPod_IsTheWorkloadOfThePod(string pod, string expected)
    {
        var cgroup = new CgroupDetails("/kubepods.slice/x", "", "", "0a1b2c3d-0000-0000-0000-000000000000", "") { KubernetesPodName = pod };

        var (name, source) = new ServiceGrouper().Name(Process(cgroup: cgroup));

        Assert.Equal(expected, name);
        Assert.Equal(ServiceSource.Kubernetes, source);
    }

    [Fact]
    public void Name_InKubernetesPodWithNamespace_IsPrefixedWithTheNamespace()
    {
        var cgroup = new CgroupDetails("/kubepods.slice/x", "", "", "0a1b2c3d-0000-0000-0000-000000000000", "") { KubernetesPodName = "web-0", KubernetesNamespace = "shop" };

        Assert.Equal("shop/web", new ServiceGrouper().Name(Process(cgroup: cgroup)).Name);
    }

    [Fact]
    public void Name_InPodWithoutKnownName_UsesThePodUid()
    {
        var cgroup = new CgroupDetails("/kubepods.slice/x", "", "", "0a1b2c3d-0000-0000-0000-000000000000", "");

        Assert.Equal("pod-0a1b2c3d", new ServiceGrouper().Name(Process(cgroup: cgroup)).Name);
    }

    [Theory]
    [InlineData("shop-web-1", "shop-web")]
    [InlineData("shop_web_2", "shop_web")]
    [InlineData("redis", "redis")]
    public void Name_InDockerContainer_IsTheContainerNameWithoutReplicaNumber(string container, string expected)
    {
        var cgroup = new CgroupDetails("/system.slice/docker-abc.scope", new string('a', 64), "docker", "", "") { ContainerName = container };

        var (name, source) = new ServiceGrouper().Name(Process(cgroup: cgroup));

        Assert.Equal(expected, name);
        Assert.Equal(ServiceSource.Container, source);
    }

    [Fact]
    public void Name_InUnnamedContainer_IsTheShortContainerId()
    {
        var cgroup = new CgroupDetails("/docker/x", "0123456789abcdef" + new string('0', 48), "docker", "", "");

        Assert.Equal("0123456789ab", new ServiceGrouper().Name(Process(cgroup: cgroup)).Name);
    }

    [Fact]
    public void Name_UnderSystemdUnit_IsTheUnit()
    {
        var cgroup = new CgroupDetails("/system.slice/nginx.service", "", "", "", "nginx.service");

        var (name, source) = new ServiceGrouper().Name(Process(comm: "nginx", exe: "/usr/sbin/nginx", cgroup: cgroup));

        Assert.Equal("nginx.service", name);
        Assert.Equal(ServiceSource.Systemd, source);
    }

    [Theory]
    [InlineData("/usr/local/bin/api-server", "api", "api-server")]
    [InlineData("/usr/local/bin/api-server (deleted)", "api", "api-server")]
    [InlineData("/memfd:sealed-1234 (deleted)", "runner", "runner")]
    [InlineData("", "kworker", "kworker")]
    public void Name_WithoutContainerOrUnit_IsTheExecutableName(string exe, string comm, string expected)
    {
        var (name, source) = new ServiceGrouper().Name(Process(comm: comm, exe: exe));

        Assert.Equal(expected, name);
        Assert.Equal(ServiceSource.Executable, source);
    }

    [Fact]
    public void Create_WithInvalidPattern_NamesTheRuleAndField()
    {
        var e = Assert.Throws<GroupingRuleException>(() => new ServiceGrouper([
            Rule(GroupingRule.Types.Field.Comm, "ok", "x"),
            Rule(GroupingRule.Types.Field.Cmdline, "(unclosed", "x"),
        ]));

        Assert.StartsWith("grouping_rules[1].pattern:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_WithoutField_IsRefused()
    {
        var e = Assert.Throws<GroupingRuleException>(() => new ServiceGrouper([Rule(GroupingRule.Types.Field.Unspecified, "x", "x")]));

        Assert.StartsWith("grouping_rules[0].field:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Name_WithCatastrophicPatternOnHostileCmdline_GivesUpAndFallsBack()
    {
        var grouper = new ServiceGrouper([Rule(GroupingRule.Types.Field.Cmdline, "^(a+)+$", "evil")]);
        // Without the match timeout this backtracks 2^40 times: the test would not finish.
        string hostile = new string('a', 40) + "!";

        var (name, source) = grouper.Name(Process(exe: "/usr/bin/victim", cmdline: hostile));

        Assert.Equal("victim", name);
        Assert.Equal(ServiceSource.Executable, source);
    }
}
