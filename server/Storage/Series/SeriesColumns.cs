namespace Fleet.Server.Storage.Series;

/// <summary>Column lists of the time-series tables, in the order the writers send them.</summary>
internal static class SeriesColumns
{
    public static readonly string[] FdCounts =
    [
        "fd_regular_file", "fd_directory", "fd_pipe", "fd_fifo", "fd_socket_tcp", "fd_socket_udp", "fd_socket_unix",
        "fd_socket_netlink", "fd_socket_other", "fd_char_device", "fd_block_device", "fd_eventpoll", "fd_eventfd",
        "fd_timerfd", "fd_signalfd", "fd_inotify", "fd_anon_inode_other", "fd_memfd", "fd_other",
    ];

    public static readonly string[] TcpStates =
    [
        "established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2", "time_wait", "close", "close_wait",
        "last_ack", "listen", "closing", "new_syn_recv",
    ];

    public static readonly string[] ServiceSamples =
    [
        "time", "service_id", "host_id", "process_count", "unreadable_count", "open_fds",
        .. FdCounts,
        "worst_pid", "worst_open_fds", "worst_nofile_soft", "worst_nofile_hard", "worst_soft_limit_percent",
        .. TcpStates.Select(s => "tcp_" + s),
    ];

    public static readonly string[] ProcessSamples =
    [
        "time", "start_ticks", "host_id", "service_id", "pid", "open_fds", "nofile_soft", "nofile_hard", "soft_limit_percent",
        "fd_regular_file", "fd_directory", "fd_pipe", "fd_socket_tcp", "fd_socket_udp", "fd_socket_unix", "fd_socket_other",
        "fd_anon_inode", "fd_other",
        .. TcpStates.Select(s => "tcp_" + s),
        "comm",
    ];

    public static readonly string[] CloseWaitSamples = ["time", "host_id", "service_id", "pid", "port", "count", "remote"];

    public static readonly string[] HostSamples =
    [
        "time", "host_id",
        "file_handles_allocated", "file_handles_max", "nr_open",
        "ephemeral_port_low", "ephemeral_port_high", "ephemeral_ports_in_use",
        "top_ephemeral_address", "top_ephemeral_port", "top_ephemeral_count",
        "tcp_max_orphans", "tcp_orphans", "tcp_time_wait", "tcp_fin_timeout_seconds", "tcp_tw_reuse",
        "conntrack_present", "conntrack_count", "conntrack_max",
        "inotify_max_user_instances", "inotify_max_user_watches", "inotify_uids", "inotify_instances",
        .. TcpStates.Select(s => "unowned_" + s),
        "processes", "unreadable_processes", "open_fds", "close_wait", "established",
        "worst_service_id", "worst_soft_limit_percent", "worst_headroom_fds", "network_namespaces",
        "collection_duration_us", "agent_cpu_us", "agent_wall_us", "agent_resident_bytes",
        "agent_processes_seen", "agent_processes_unreadable", "agent_processes_vanished", "agent_malformed_lines",
        "agent_processes_rescanned", "agent_fds_read",
    ];

    public static string Copy(string table, string[] columns) =>
        $"COPY {table} ({string.Join(", ", columns)}) FROM STDIN (FORMAT BINARY)";
}
