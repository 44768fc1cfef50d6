using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection;

public sealed class NetworkNamespaceTests : IDisposable
{
    private const ulong ContainerNetNs = 4026532417;
    private readonly ProcTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Collect_WithTwoNetworkNamespaces_ReadsEachOnceAndLooksSocketsUpInTheProcesssOwn()
    {
        // Host namespace: pid 100 can show the tables; pid 101 is in the same namespace but has no
        // net/ directory, so whichever order the pids are listed in, 100 must be the reader and the
        // tables read once (read twice, every socket would be there twice).
        _tree.Process(100)
            .Fd(3, "socket:[1001]")
            .Tcp(
                ProcNet.Tcp(0, "10.0.0.1:40001", "10.1.2.3:5432", TcpState.Established, 1001),
                ProcNet.Tcp(1, "10.0.0.1:40002", "10.1.2.3:5432", TcpState.CloseWait, 1002),
                // The host namespace also has an inode the container's process holds, in another state:
                // looked up in the wrong namespace it would count as CLOSE_WAIT.
                ProcNet.Tcp(2, "10.0.0.1:40003", "10.7.7.7:80", TcpState.CloseWait, 2001));
        _tree.Process(101).Delete("net").Fd(3, "socket:[1002]");
        _tree.Process(200)
            .NetNs(ContainerNetNs)
            .Fd(3, "socket:[2001]")
            .Tcp(ProcNet.Tcp(0, "172.17.0.2:8080", "172.17.0.1:51000", TcpState.Established, 2001))
            .Tcp6(ProcNet.Tcp6(0, "[::]:9090", "[::]:0", TcpState.Listen, 2002));

        var c = _tree.Collect();

        Assert.Equal(2, c.Namespaces.Count);
        var host = Assert.Single(c.Namespaces, n => n.Inode == ProcTree.HostNetNs);
        Assert.Equal(100, host.ReaderPid);
        Assert.Equal(2U, host.ProcessCount);
        Assert.Equal(3UL, host.TcpSockets);
        var container = Assert.Single(c.Namespaces, n => n.Inode == ContainerNetNs);
        Assert.Equal(200, container.ReaderPid);
        Assert.Equal(1U, container.ProcessCount);
        Assert.Equal(2UL, container.TcpSockets);

        var p100 = Assert.Single(c.Processes, p => p.Pid == 100);
        Assert.Equal(ProcTree.HostNetNs, p100.NetNamespace);
        Assert.Equal(1UL, p100.Tcp[TcpState.Established]);
        Assert.Equal(1UL, p100.Tcp.Total);
        var p101 = Assert.Single(c.Processes, p => p.Pid == 101);
        Assert.Equal(1UL, p101.Tcp[TcpState.CloseWait]);
        var p200 = Assert.Single(c.Processes, p => p.Pid == 200);
        Assert.Equal(ContainerNetNs, p200.NetNamespace);
        Assert.Equal(1UL, p200.Tcp[TcpState.Established]);
        Assert.Equal(0UL, p200.Tcp[TcpState.CloseWait]);
        Assert.Empty(p200.CloseWaitRemotes);

        // Unowned: the host's copy of 2001 (held by nobody in the host namespace) and the container's listener.
        Assert.Equal(1UL, c.UnownedTcp[TcpState.CloseWait]);
        Assert.Equal(1UL, c.UnownedTcp[TcpState.Listen]);
        Assert.Equal(2UL, c.UnownedTcp.Total);
    }

    [Fact]
    public void Collect_WhenNamespaceIsGone_DropsItFromTheNextCollection()
    {
        _tree.Process(100);
        var container = _tree.Process(200).NetNs(ContainerNetNs);
        var collector = _tree.NewCollector(incremental: true);
        Assert.Equal(2, collector.Collect().Namespaces.Count);

        Directory.Delete(container.Dir, recursive: true);
        var second = collector.Collect();

        var ns = Assert.Single(second.Namespaces);
        Assert.Equal(ProcTree.HostNetNs, ns.Inode);
    }
}
