using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection;

public sealed class CgroupsTests
{
    private const string Id = "3f4e1b2c5d6a7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f";
    private const string PodUid = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";
    private const string PodSlice = "kubepods-burstable-pod1a2b3c4d_5e6f_7a8b_9c0d_1e2f3a4b5c6d.slice";

    [Fact]
    public void Parse_WithDockerScopeOnCgroupV2_FindsDockerContainer()
    {
        var d = Cgroups.Parse($"0::/system.slice/docker-{Id}.scope\n");

        Assert.Equal($"/system.slice/docker-{Id}.scope", d.Path);
        Assert.Equal(Id, d.ContainerId);
        Assert.Equal("docker", d.ContainerRuntime);
        Assert.Equal("", d.KubernetesPodUid);
        Assert.Equal("", d.SystemdUnit);
    }

    [Fact]
    public void Parse_WithDockerPathOnCgroupV1_FindsDockerContainer()
    {
        var d = Cgroups.Parse(
            $"12:pids:/docker/{Id}\n11:memory:/docker/{Id}\n4:cpu,cpuacct:/docker/{Id}\n1:name=systemd:/docker/{Id}\n0::/\n");

        Assert.Equal($"/docker/{Id}", d.Path);
        Assert.Equal(Id, d.ContainerId);
        Assert.Equal("docker", d.ContainerRuntime);
        Assert.Equal("", d.SystemdUnit);
    }

    [Fact]
    public void Parse_WithBurstablePodAndCriContainerd_FindsPodAndContainer()
    {
        var d = Cgroups.Parse($"0::/kubepods.slice/kubepods-burstable.slice/{PodSlice}/cri-containerd-{Id}.scope\n");

        Assert.Equal(PodUid, d.KubernetesPodUid);
        Assert.Equal(Id, d.ContainerId);
        Assert.Equal("containerd", d.ContainerRuntime);
        Assert.Equal("", d.SystemdUnit);
    }

    [Fact]
    public void Parse_WithCgroupfsDriverPod_FindsPodAndBareContainerId()
    {
        var d = Cgroups.Parse($"0::/kubepods/burstable/pod{PodUid}/{Id}\n");

        Assert.Equal(PodUid, d.KubernetesPodUid);
        Assert.Equal(Id, d.ContainerId);
        Assert.Equal("cri", d.ContainerRuntime);
    }

    [Fact]
    public void Parse_WithCrioScope_FindsCriO()
    {
        var d = Cgroups.Parse($"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1a2b3c4d_5e6f_7a8b_9c0d_1e2f3a4b5c6d.slice/crio-{Id}.scope\n");

        Assert.Equal(PodUid, d.KubernetesPodUid);
        Assert.Equal(Id, d.ContainerId);
        Assert.Equal("cri-o", d.ContainerRuntime);
    }

    [Fact]
    public void Parse_WithLibpodScope_FindsPodman()
    {
        var d = Cgroups.Parse($"0::/machine.slice/libpod-{Id}.scope/container\n");

        Assert.Equal(Id, d.ContainerId);
        Assert.Equal("podman", d.ContainerRuntime);
        Assert.Equal("", d.KubernetesPodUid);
        Assert.Equal("", d.SystemdUnit);
    }

    [Fact]
    public void Parse_WithSystemService_FindsTheUnit()
    {
        var d = Cgroups.Parse("0::/system.slice/foo.service\n");

        Assert.Equal("/system.slice/foo.service", d.Path);
        Assert.Equal("foo.service", d.SystemdUnit);
        Assert.Equal("", d.ContainerId);
        Assert.Equal("", d.ContainerRuntime);
    }

    [Fact]
    public void Parse_WithLoginSessionScope_FindsNoUnit()
    {
        var d = Cgroups.Parse("0::/user.slice/user-1000.slice/session-3.scope\n");

        Assert.Equal("/user.slice/user-1000.slice/session-3.scope", d.Path);
        Assert.Equal("", d.SystemdUnit);
    }

    [Fact]
    public void Parse_WithUserManager_FindsNoUnit()
    {
        var d = Cgroups.Parse("0::/user.slice/user-1000.slice/user@1000.service/init.scope\n");

        Assert.Equal("", d.SystemdUnit);
    }

    [Fact]
    public void Parse_WithServiceUnderUserManager_FindsTheUserService()
    {
        var d = Cgroups.Parse("0::/user.slice/user-1000.slice/user@1000.service/app.slice/pipewire.service\n");

        Assert.Equal("pipewire.service", d.SystemdUnit);
    }

    [Fact]
    public void Parse_WithServiceOnCgroupV1_UsesTheNameSystemdHierarchy()
    {
        var d = Cgroups.Parse("9:name=systemd:/system.slice/nginx.service\n8:pids:/system.slice/nginx.service\n4:memory:/\n0::/\n");

        Assert.Equal("nginx.service", d.SystemdUnit);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0::/\n")]
    [InlineData("9:name=systemd:/\n8:pids:/\n0::/\n")]
    [InlineData("garbage without colons\n")]
    public void Parse_WithRootOrNoPath_ReturnsEmpty(string file)
    {
        Assert.Same(CgroupDetails.Empty, Cgroups.Parse(file));
    }

    [Fact]
    public void Parse_WithShortOrUppercaseId_FindsNoContainer()
    {
        Assert.Equal("", Cgroups.Parse("0::/system.slice/docker-3f4e1b2c.scope\n").ContainerId);
        Assert.Equal("", Cgroups.Parse($"0::/system.slice/docker-{Id.ToUpperInvariant()}.scope\n").ContainerId);
    }
}
