using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection;

public sealed class ContainerNamesTests : IDisposable
{
    private const string Id = "3f4e1b2c5d6a7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f";
    private const string OtherId = "aaaa1b2c5d6a7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f";
    private readonly ProcTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private void DockerConfig(string id, string json) => _tree.Write(Path.Combine(_tree.DockerRoot, "containers", id, "config.v2.json"), json);

    [Fact]
    public void Collect_WithDockerContainer_NamesItFromConfigV2()
    {
        DockerConfig(Id, "{\"StreamConfig\":{},\"State\":{\"Running\":true,\"Pid\":100},\"ID\":\"" + Id + "\","
            + "\"Config\":{\"Hostname\":\"3f4e1b2c5d6a\",\"Name\":\"not-this-one\",\"Env\":[\"PATH=/usr/bin\"]},\"Name\":\"/web-1\",\"Driver\":\"overlay2\"}");
        _tree.Process(100).Cgroup($"0::/system.slice/docker-{Id}.scope\n");
        _tree.Process(101).Cgroup($"0::/system.slice/docker-{OtherId}.scope\n");
        _tree.Process(102);

        var c = _tree.NewCollector(docker: true).Collect();

        var named = Assert.Single(c.Processes, p => p.Pid == 100).Cgroup;
        Assert.Equal(Id, named.ContainerId);
        Assert.Equal("docker", named.ContainerRuntime);
        Assert.Equal("web-1", named.ContainerName);
        Assert.Equal("", Assert.Single(c.Processes, p => p.Pid == 101).Cgroup.ContainerName);
        var service = Assert.Single(c.Processes, p => p.Pid == 102).Cgroup;
        Assert.Equal("app.service", service.SystemdUnit);
        Assert.Equal("", service.ContainerName);
    }

    [Fact]
    public void Collect_WithoutDockerRoot_LeavesContainerUnnamed()
    {
        DockerConfig(Id, "{\"Name\":\"/web-1\"}");
        _tree.Process(100).Cgroup($"0::/system.slice/docker-{Id}.scope\n");

        var p = Assert.Single(_tree.NewCollector(docker: false).Collect().Processes);

        Assert.Equal(Id, p.Cgroup.ContainerId);
        Assert.Equal("", p.Cgroup.ContainerName);
    }

    [Fact]
    public void Collect_WithBrokenDockerConfig_LeavesContainerUnnamedWithoutFailing()
    {
        DockerConfig(Id, "{\"ID\": nope, \"Name\":\"/web-1\"}");
        _tree.Process(100).Cgroup($"0::/system.slice/docker-{Id}.scope\n");

        var p = Assert.Single(_tree.NewCollector(docker: true).Collect().Processes);

        Assert.Equal("", p.Cgroup.ContainerName);
    }

    [Fact]
    public void Collect_WithKubernetesPod_NamesItFromTheHostnameInItsEnviron()
    {
        const string cgroup = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b3c4d_5e6f_7a8b_9c0d_1e2f3a4b5c6d.slice/cri-containerd-"
            + Id + ".scope\n";
        _tree.Process(100).Cgroup(cgroup).Environ("PATH=/usr/local/bin:/usr/bin\0HOSTNAME=api-7f9c6d5b8-x2x9q\0POD_NAMESPACE=shop\0KUBERNETES_PORT=tcp://10.96.0.1:443\0");

        var p = Assert.Single(_tree.NewCollector(docker: true).Collect().Processes);

        Assert.Equal("1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d", p.Cgroup.KubernetesPodUid);
        Assert.Equal("api-7f9c6d5b8-x2x9q", p.Cgroup.KubernetesPodName);
        Assert.Equal("shop", p.Cgroup.KubernetesNamespace);
        Assert.Equal("containerd", p.Cgroup.ContainerRuntime);
    }

    [Fact]
    public void Collect_WhenAProcessMovesIntoAContainer_ReparsesItsCgroup()
    {
        DockerConfig(Id, "{\"Name\":\"/web-1\"}");
        var process = _tree.Process(100).Fds(0, 30, "pipe:[9]");
        var collector = _tree.NewCollector(incremental: true, docker: true);
        string before = Assert.Single(collector.Collect().Processes).Cgroup.SystemdUnit;

        process.Cgroup($"0::/system.slice/docker-{Id}.scope\n");
        var after = Assert.Single(collector.Collect().Processes).Cgroup;

        Assert.Equal("app.service", before);
        Assert.Equal("web-1", after.ContainerName);
        Assert.Equal("", after.SystemdUnit);
    }
}
