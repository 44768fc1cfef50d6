using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;
using Fleet.Agent.Collection;

namespace Fleet.Agent.Tests.Collection;

/// <summary>
/// Writes a fake procfs tree in a temp directory: ROOT/stat, ROOT/sys/..., and pid directories with the
/// files the collector reads. Line formats are copied from a Linux 6.x /proc. fd entries are real
/// symbolic links, so the collector reads them with readlinkat and types path targets with statx.
/// Everything is readable by any uid (directories 0755, files 0644), so a test may look at it with
/// a lowered fsuid.
/// </summary>
internal sealed class ProcTree : IDisposable
{
    public const ulong HostNetNs = 4026531840;
    public const long BootTimeSeconds = 1_700_000_000;
    public const string BootId = "0b5f1c7e-3d2a-4c55-9a51-0d1e7c2b9f10";
    public const string MachineId = "4c4c4544003957108052b4c04f384b32";

    private const UnixFileMode DirMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly string _base;

    public ProcTree()
    {
        _base = Path.Combine(Path.GetTempPath(), "fleet-proctree-" + Guid.NewGuid().ToString("N"));
        Root = Path.Combine(_base, "proc");
        Scratch = Path.Combine(_base, "scratch");
        DockerRoot = Path.Combine(_base, "docker");
        MakeDir(_base);
        MakeDir(Root);
        MakeDir(Scratch);
        MakeDir(DockerRoot);
        MachineIdPath = Path.Combine(Scratch, "machine-id");
        Write(MachineIdPath, MachineId + "\n");

        Write("stat", $"cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0\ncpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0\n"
            + $"intr 199292 0 9\nctxt 201234\nbtime {BootTimeSeconds}\nprocesses 41234\nprocs_running 2\nprocs_blocked 0\n");
        Sys("fs/file-nr", "1184\t0\t9223372036854775807\n");
        Sys("fs/nr_open", "1048576\n");
        Sys("net/ipv4/ip_local_port_range", "32768\t60999\n");
        Sys("net/ipv4/tcp_max_orphans", "65536\n");
        Sys("net/ipv4/tcp_fin_timeout", "60\n");
        Sys("net/ipv4/tcp_tw_reuse", "2\n");
        Sys("net/netfilter/nf_conntrack_count", "17\n");
        Sys("net/netfilter/nf_conntrack_max", "262144\n");
        Sys("fs/inotify/max_user_instances", "128\n");
        Sys("fs/inotify/max_user_watches", "65536\n");
        Sys("kernel/hostname", "fixture-host\n");
        Sys("kernel/osrelease", "6.1.0-18-amd64\n");
        Sys("kernel/random/boot_id", BootId + "\n");
    }

    /// <summary>The procfs root to give the collector.</summary>
    public string Root { get; }

    /// <summary>Files outside the tree that fd links point at.</summary>
    public string Scratch { get; }

    public string DockerRoot { get; }

    public string MachineIdPath { get; }

    public HostCollector NewCollector(bool incremental = false, int cmdlineMaxBytes = 4096, bool docker = false) => new(new CollectorOptions
    {
        ProcRoot = Root,
        MachineIdPath = MachineIdPath,
        DockerRoot = docker ? DockerRoot : "",
        Incremental = incremental,
        CmdlineMaxBytes = cmdlineMaxBytes,
    });

    /// <summary>One collection with a fresh, non-incremental collector.</summary>
    public HostCollection Collect() => NewCollector().Collect();

    /// <summary>Writes ROOT/sys/<paramref name="relative"/>.</summary>
    public ProcTree Sys(string relative, string content)
    {
        Write(Path.Combine("sys", relative), content);
        return this;
    }

    public ProcTree RemoveSys(string relative)
    {
        File.Delete(Path.Combine(Root, "sys", relative));
        return this;
    }

    /// <summary>Writes a file below the root (creating directories); absolute paths are written as they are.</summary>
    public void Write(string path, string content) => Write(path, Encoding.UTF8.GetBytes(content));

    public void Write(string path, byte[] content)
    {
        string full = Path.IsPathRooted(path) ? path : Path.Combine(Root, path);
        MakeDir(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
        File.SetUnixFileMode(full, FileMode);
    }

    /// <summary>Adds a pid directory with plausible defaults: one thread, uid 1000, an empty fd table, empty TCP tables.</summary>
    public FakeProcess Process(int pid) => new(this, pid);

    public string CreateRegularFile(string name)
    {
        string path = Path.Combine(Scratch, name);
        Write(path, "data\n");
        return path;
    }

    public string CreateDirectory(string name)
    {
        string path = Path.Combine(Scratch, name);
        MakeDir(path);
        return path;
    }

    public string CreateFifo(string name)
    {
        string path = Path.Combine(Scratch, name);
        TestLibC.Check(TestLibC.MkFifo(path, 0x1A4), "mkfifo");
        return path;
    }

    /// <summary>A block device node (loop0's numbers); never opened, only typed.</summary>
    public string CreateBlockDevice(string name)
    {
        string path = Path.Combine(Scratch, name);
        TestLibC.Check(TestLibC.MkNod(path, TestLibC.S_IFBLK | 0x180, (7UL << 8) | 0), "mknod");
        return path;
    }

    /// <summary>A socket inode on disk, as a bound Unix socket leaves behind.</summary>
    public string CreateSocketFile(string name)
    {
        string path = Path.Combine(Scratch, name);
        TestLibC.Check(TestLibC.MkNod(path, TestLibC.S_IFSOCK | 0x1B6, 0), "mknod");
        return path;
    }

    internal static void MakeDir(string path)
    {
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, DirMode);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_base, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is not worth failing a test for.
        }
    }
}

/// <summary>One pid directory of a <see cref="ProcTree"/>; every method rewrites the files it names.</summary>
internal sealed class FakeProcess
{
    private readonly ProcTree _tree;

    public FakeProcess(ProcTree tree, int pid)
    {
        _tree = tree;
        Pid = pid;
        Dir = Path.Combine(tree.Root, pid.ToString(CultureInfo.InvariantCulture));
        ProcTree.MakeDir(Dir);
        ProcTree.MakeDir(Path.Combine(Dir, "fd"));
        ProcTree.MakeDir(Path.Combine(Dir, "ns"));
        Stat();
        Status(1000);
        Limits("1024", "524288");
        Cgroup("0::/system.slice/app.service\n");
        Cmdline("/usr/bin/app\0--serve\0"u8.ToArray());
        Link("exe", "/usr/bin/app");
        NetNs(ProcTree.HostNetNs);
        Thread(pid, 1_000_000);
        Tcp();
        Tcp6();
    }

    public int Pid { get; }

    public string Dir { get; }

    /// <summary>Writes /proc/PID/stat in the kernel's format (fields 3..52).</summary>
    public FakeProcess Stat(string comm = "app", int ppid = 1, uint flags = 0x400140, uint threads = 1, ulong startTicks = 5000, char state = 'S') =>
        File("stat", $"{Pid} ({comm}) {state} {ppid} {Pid} {Pid} 0 -1 {flags} 1260 0 3 0 12 5 0 0 20 0 {threads} 0 {startTicks} "
            + "23330816 2410 18446744073709551615 94769580294144 94769580314025 140729016804480 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 "
            + "94769580330032 94769580331648 94770493259776 140729016809953 140729016809973 140729016809973 140729016811499 0\n");

    public FakeProcess Status(uint euid) =>
        File("status", $"Name:\tapp\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{Pid}\nNgid:\t0\nPid:\t{Pid}\nPPid:\t1\nTracerPid:\t0\n"
            + $"Uid:\t{euid + 1}\t{euid}\t{euid}\t{euid}\nGid:\t{euid}\t{euid}\t{euid}\t{euid}\nFDSize:\t64\nGroups:\t \nThreads:\t1\n");

    public FakeProcess Limits(string soft, string hard) =>
        File("limits",
            "Limit                     Soft Limit           Hard Limit           Units     \n"
            + "Max cpu time              unlimited            unlimited            seconds   \n"
            + "Max file size             unlimited            unlimited            bytes     \n"
            + "Max data size             unlimited            unlimited            bytes     \n"
            + "Max stack size            8388608              unlimited            bytes     \n"
            + "Max core file size        0                    unlimited            bytes     \n"
            + "Max resident set          unlimited            unlimited            bytes     \n"
            + "Max processes             96364                96364                processes \n"
            + $"Max open files            {soft,-21}{hard,-21}files     \n"
            + "Max locked memory         8388608              8388608              bytes     \n"
            + "Max address space         unlimited            unlimited            bytes     \n"
            + "Max file locks            unlimited            unlimited            locks     \n"
            + "Max pending signals       96364                96364                signals   \n"
            + "Max msgqueue size         819200               819200               bytes     \n"
            + "Max nice priority         0                    0                    \n"
            + "Max realtime priority     0                    0                    \n"
            + "Max realtime timeout      unlimited            unlimited            us        \n");

    public FakeProcess Cgroup(string content) => File("cgroup", content);

    public FakeProcess Cmdline(byte[] content) => File("cmdline", content);

    public FakeProcess Environ(string content) => File("environ", content);

    public FakeProcess NetNs(ulong inode) => Link("ns/net", $"net:[{inode}]");

    /// <summary>Makes fd <paramref name="fd"/> a link to <paramref name="target"/>, replacing what was there.</summary>
    public FakeProcess Fd(int fd, string target) => Link(Path.Combine("fd", fd.ToString(CultureInfo.InvariantCulture)), target);

    public FakeProcess Fds(int first, int count, string target)
    {
        for (int fd = first; fd < first + count; fd++)
        {
            Fd(fd, target);
        }
        return this;
    }

    /// <summary>/proc/PID/task/TID/schedstat: run time (ns), wait time (ns), timeslices.</summary>
    public FakeProcess Thread(int tid, ulong runtimeNs) =>
        File(Path.Combine("task", tid.ToString(CultureInfo.InvariantCulture), "schedstat"), $"{runtimeNs} 52331 {runtimeNs / 100_000 + 1}\n");

    public FakeProcess Tcp(params string[] lines) => File("net/tcp", ProcNet.TcpHeader + "\n" + Lines(lines));

    public FakeProcess Tcp6(params string[] lines) => File("net/tcp6", ProcNet.Tcp6Header + "\n" + Lines(lines));

    public FakeProcess Udp(params string[] lines) => File("net/udp", ProcNet.UdpHeader + "\n" + Lines(lines));

    public FakeProcess Unix(params string[] lines) => File("net/unix", ProcNet.UnixHeader + "\n" + Lines(lines));

    public FakeProcess Netlink(params string[] lines) => File("net/netlink", ProcNet.NetlinkHeader + "\n" + Lines(lines));

    public FakeProcess Sockstat(ulong inuse, ulong orphan, ulong tw) =>
        File("net/sockstat", $"sockets: used 211\nTCP: inuse {inuse} orphan {orphan} tw {tw} alloc {inuse + 2} mem 195\nUDP: inuse 3 mem 2\nUDPLITE: inuse 0\nRAW: inuse 0\nFRAG: inuse 0 memory 0\n");

    public FakeProcess File(string name, string content) => File(name, Encoding.UTF8.GetBytes(content));

    public FakeProcess File(string name, byte[] content)
    {
        _tree.Write(Path.Combine(Dir, name), content);
        return this;
    }

    /// <summary>Removes a file, link or directory of the pid directory.</summary>
    public FakeProcess Delete(string name)
    {
        string path = Path.Combine(Dir, name);
        if (Directory.Exists(path) && !new DirectoryInfo(path).Attributes.HasFlag(FileAttributes.ReparsePoint))
        {
            Directory.Delete(path, recursive: true);
        }
        else
        {
            System.IO.File.Delete(path);
        }
        return this;
    }

    public FakeProcess Link(string name, string target)
    {
        string path = Path.Combine(Dir, name);
        ProcTree.MakeDir(Path.GetDirectoryName(path)!);
        if (System.IO.File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            System.IO.File.Delete(path);
        }
        System.IO.File.CreateSymbolicLink(path, target);
        return this;
    }

    private static string Lines(string[] lines) => lines.Length == 0 ? "" : string.Join("\n", lines) + "\n";
}

/// <summary>Lines of /proc/net tables in the kernel's own format (see net/ipv4/tcp_ipv4.c get_tcp4_sock).</summary>
internal static class ProcNet
{
    public const string TcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     ";
    public const string Tcp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
    public const string UdpHeader = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            ";
    public const string UnixHeader = "Num       RefCount Protocol Flags    Type St Inode Path";
    public const string NetlinkHeader = "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode";

    /// <summary>A socket line of net/tcp (both endpoints IPv4) or net/tcp6 (IPv6; IPv4 endpoints written IPv4-mapped).</summary>
    public static string Tcp(int sl, string local, string remote, TcpState state, ulong inode, bool v6Table = false)
    {
        string l = Address(local, v6Table);
        string r = Address(remote, v6Table);
        if (state == TcpState.TimeWait)
        {
            return $"{sl,4}: {l} {r} 06 00000000:00000000 03:00001770 00000000     0        0 {inode} 3 0000000000000000";
        }
        return $"{sl,4}: {l} {r} {(int)state:X2} 00000000:00000000 00:00000000 00000000  1000        0 {inode} 1 00000000371410ee 100 0 0 10 0";
    }

    public static string Tcp6(int sl, string local, string remote, TcpState state, ulong inode) => Tcp(sl, local, remote, state, inode, v6Table: true);

    public static string Udp(int sl, string local, ulong inode) =>
        $"{sl,5}: {Address(local, false)} 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 {inode} 2 000000003b2f955c 0";

    public static string Unix(ulong inode, string path = "") =>
        $"000000007c2a1b3e: 00000002 00000000 00010000 0001 01 {inode}{(path.Length > 0 ? " " + path : "")}";

    public static string Netlink(ulong inode, int pid = 0) =>
        $"00000000f52b7b60 0   {pid,-10} 00000000 0        0        0     2        0        {inode}";

    /// <summary>"10.0.0.1:80" or "[2001:db8::1]:443" as the kernel prints it: each 32-bit word of the address in host order, then the port.</summary>
    public static string Address(string endpoint, bool v6Table)
    {
        var ep = IPEndPoint.Parse(endpoint);
        var address = v6Table ? ep.Address.MapToIPv6() : ep.Address;
        byte[] bytes = address.GetAddressBytes();
        var text = new StringBuilder();
        for (int i = 0; i < bytes.Length; i += 4)
        {
            uint word = BitConverter.IsLittleEndian
                ? BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i))
                : BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(i));
            text.Append(word.ToString("X8", CultureInfo.InvariantCulture));
        }
        return $"{text}:{ep.Port:X4}";
    }
}
