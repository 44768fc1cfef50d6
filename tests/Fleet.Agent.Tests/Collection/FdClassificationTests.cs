using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection;

public sealed class FdClassificationTests : IDisposable
{
    private readonly ProcTree _tree = new();

    public void Dispose() => _tree.Dispose();

    public static TheoryData<string, string> Links => new()
    {
        { "socket:[1001]", nameof(FdKind.SocketTcp) },
        { "socket:[1002]", nameof(FdKind.SocketTcp) },
        { "socket:[2001]", nameof(FdKind.SocketUdp) },
        { "socket:[3001]", nameof(FdKind.SocketUnix) },
        { "socket:[4001]", nameof(FdKind.SocketNetlink) },
        { "socket:[9999]", nameof(FdKind.SocketOther) },
        { "pipe:[9]", nameof(FdKind.Pipe) },
        { "anon_inode:[eventfd]", nameof(FdKind.Eventfd) },
        { "anon_inode:[eventpoll]", nameof(FdKind.Eventpoll) },
        { "anon_inode:[timerfd]", nameof(FdKind.Timerfd) },
        { "anon_inode:[signalfd]", nameof(FdKind.Signalfd) },
        { "anon_inode:inotify", nameof(FdKind.Inotify) },
        { "anon_inode:[pidfd]", nameof(FdKind.AnonInodeOther) },
        { "/memfd:x (deleted)", nameof(FdKind.Memfd) },
        { "net:[4026532281]", nameof(FdKind.Other) },
        { "{file}", nameof(FdKind.RegularFile) },
        { "{dir}", nameof(FdKind.Directory) },
        { "/dev/null", nameof(FdKind.CharDevice) },
        { "{fifo}", nameof(FdKind.Fifo) },
        { "{blockdev}", nameof(FdKind.BlockDevice) },
        { "{socketfile}", nameof(FdKind.SocketUnix) },
    };

    [Theory]
    [MemberData(nameof(Links))]
    public void Collect_WithOneFd_ClassifiesItByItsLink(string link, string expectedKind)
    {
        var expected = Enum.Parse<FdKind>(expectedKind);
        string target = link switch
        {
            "{file}" => _tree.CreateRegularFile("data.log"),
            "{dir}" => _tree.CreateDirectory("state"),
            "{fifo}" => _tree.CreateFifo("queue.fifo"),
            "{blockdev}" => _tree.CreateBlockDevice("loop0"),
            "{socketfile}" => _tree.CreateSocketFile("app.sock"),
            _ => link,
        };
        _tree.Process(100)
            .Fd(7, target)
            .Tcp(
                ProcNet.Tcp(0, "0.0.0.0:8080", "0.0.0.0:0", TcpState.Listen, 1001))
            .Tcp6(
                ProcNet.Tcp6(0, "[2001:db8::1]:8443", "[2001:db8::9]:50000", TcpState.Established, 1002))
            .Udp(ProcNet.Udp(120, "127.0.0.1:53", 2001))
            .Unix(ProcNet.Unix(3001, "/run/app.sock"), ProcNet.Unix(3002))
            .Netlink(ProcNet.Netlink(4001, 100));

        var p = Assert.Single(_tree.Collect().Processes);

        Assert.True(p.FdsReadable);
        Assert.Equal(1UL, p.OpenFds);
        Assert.Equal(1UL, p.Fds[expected]);
        Assert.Equal(1UL, p.Fds.Total);
    }

    [Fact]
    public void Collect_WithEveryKindOfFd_CountsEachKindExactly()
    {
        // A different count for each kind, so two kinds swapped would show.
        var links = new (string Target, FdKind Kind, int Count)[]
        {
            ("/dev/null", FdKind.CharDevice, 1),
            (_tree.CreateRegularFile("a.log"), FdKind.RegularFile, 2),
            (_tree.CreateDirectory("d"), FdKind.Directory, 3),
            ("pipe:[9]", FdKind.Pipe, 4),
            (_tree.CreateFifo("f"), FdKind.Fifo, 5),
            ("socket:[123]", FdKind.SocketTcp, 6),
            ("socket:[124]", FdKind.SocketUdp, 7),
            ("socket:[125]", FdKind.SocketUnix, 8),
            ("socket:[126]", FdKind.SocketNetlink, 9),
            ("socket:[127]", FdKind.SocketOther, 10),
            (_tree.CreateBlockDevice("b"), FdKind.BlockDevice, 11),
            ("anon_inode:[eventpoll]", FdKind.Eventpoll, 12),
            ("anon_inode:[eventfd]", FdKind.Eventfd, 13),
            ("anon_inode:[timerfd]", FdKind.Timerfd, 14),
            ("anon_inode:[signalfd]", FdKind.Signalfd, 15),
            ("anon_inode:inotify", FdKind.Inotify, 16),
            ("anon_inode:[io_uring]", FdKind.AnonInodeOther, 17),
            ("/memfd:x (deleted)", FdKind.Memfd, 18),
            ("mnt:[4026531841]", FdKind.Other, 19),
        };
        var process = _tree.Process(100)
            .Tcp(ProcNet.Tcp(0, "10.0.0.1:40001", "10.1.2.3:5432", TcpState.Established, 123))
            .Udp(ProcNet.Udp(120, "0.0.0.0:68", 124))
            .Unix(ProcNet.Unix(125))
            .Netlink(ProcNet.Netlink(126));
        int fd = 0;
        foreach (var (target, _, count) in links)
        {
            process.Fds(fd, count, target);
            fd += count;
        }

        var p = Assert.Single(_tree.Collect().Processes);

        Assert.Equal((ulong)fd, p.OpenFds);
        foreach (var (_, kind, count) in links)
        {
            Assert.True((ulong)count == p.Fds[kind], $"{kind}: expected {count}, got {p.Fds[kind]}");
        }
        Assert.Equal(6UL, p.Tcp[TcpState.Established]);
        Assert.Equal(6UL, p.Tcp.Total);
    }

    [Fact]
    public void Collect_WithSocketsSharingAnInode_CountsEveryFd()
    {
        _tree.Process(100)
            .Fds(3, 3, "socket:[2001]")
            .Udp(ProcNet.Udp(120, "127.0.0.1:53", 2001));

        var p = Assert.Single(_tree.Collect().Processes);

        Assert.Equal(3UL, p.Fds[FdKind.SocketUdp]);
        Assert.Equal(3UL, p.OpenFds);
    }
}
