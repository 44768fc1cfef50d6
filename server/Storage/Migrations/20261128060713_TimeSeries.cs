using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Fleet.Server.Storage.Migrations
{
    /// <summary>
    /// The time series: tables partitioned by range of time (one partition per UTC day; per month for the hour
    /// rollups), written with binary COPY and dropped a whole partition at a time. The partitions themselves
    /// are made by PartitionManager (ahead of time, and on demand for a late day). Counts are integer (a
    /// process can hold up to fs.nr_open, at most 2^31 - 64, fds), limits integer with -1 for unlimited,
    /// percentages real; host figures that the kernel keeps as longs are bigint.
    /// </summary>
    public partial class TimeSeries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                -- One row per service instance and snapshot.
                CREATE TABLE service_samples (
                    time timestamptz NOT NULL,
                    service_id integer NOT NULL,
                    host_id integer NOT NULL,
                    process_count integer NOT NULL,
                    unreadable_count integer NOT NULL,
                    open_fds integer NOT NULL,
                    fd_regular_file integer NOT NULL,
                    fd_directory integer NOT NULL,
                    fd_pipe integer NOT NULL,
                    fd_fifo integer NOT NULL,
                    fd_socket_tcp integer NOT NULL,
                    fd_socket_udp integer NOT NULL,
                    fd_socket_unix integer NOT NULL,
                    fd_socket_netlink integer NOT NULL,
                    fd_socket_other integer NOT NULL,
                    fd_char_device integer NOT NULL,
                    fd_block_device integer NOT NULL,
                    fd_eventpoll integer NOT NULL,
                    fd_eventfd integer NOT NULL,
                    fd_timerfd integer NOT NULL,
                    fd_signalfd integer NOT NULL,
                    fd_inotify integer NOT NULL,
                    fd_anon_inode_other integer NOT NULL,
                    fd_memfd integer NOT NULL,
                    fd_other integer NOT NULL,
                    worst_pid integer NOT NULL,
                    worst_open_fds integer NOT NULL,
                    worst_nofile_soft integer NOT NULL,
                    worst_nofile_hard integer NOT NULL,
                    worst_soft_limit_percent real NOT NULL,
                    tcp_established integer NOT NULL,
                    tcp_syn_sent integer NOT NULL,
                    tcp_syn_recv integer NOT NULL,
                    tcp_fin_wait1 integer NOT NULL,
                    tcp_fin_wait2 integer NOT NULL,
                    tcp_time_wait integer NOT NULL,
                    tcp_close integer NOT NULL,
                    tcp_close_wait integer NOT NULL,
                    tcp_last_ack integer NOT NULL,
                    tcp_listen integer NOT NULL,
                    tcp_closing integer NOT NULL,
                    tcp_new_syn_recv integer NOT NULL
                ) PARTITION BY RANGE (time);
                CREATE INDEX ix_service_samples_service_time ON service_samples (service_id, time);

                -- The processes that matter in a snapshot: the top N by open fds, the top N by percent of the
                -- soft limit, and every process with CLOSE_WAIT sockets. Fds by main type: pipe = pipe + fifo,
                -- socket_other = netlink + other sockets, anon_inode = eventpoll, eventfd, timerfd, signalfd,
                -- inotify and other anon inodes, other = char and block devices, memfd and the rest.
                CREATE TABLE process_samples (
                    time timestamptz NOT NULL,
                    start_ticks bigint NOT NULL,
                    host_id integer NOT NULL,
                    service_id integer NOT NULL,
                    pid integer NOT NULL,
                    open_fds integer NOT NULL,
                    nofile_soft integer NOT NULL,
                    nofile_hard integer NOT NULL,
                    soft_limit_percent real NOT NULL,
                    fd_regular_file integer NOT NULL,
                    fd_directory integer NOT NULL,
                    fd_pipe integer NOT NULL,
                    fd_socket_tcp integer NOT NULL,
                    fd_socket_udp integer NOT NULL,
                    fd_socket_unix integer NOT NULL,
                    fd_socket_other integer NOT NULL,
                    fd_anon_inode integer NOT NULL,
                    fd_other integer NOT NULL,
                    tcp_established integer NOT NULL,
                    tcp_syn_sent integer NOT NULL,
                    tcp_syn_recv integer NOT NULL,
                    tcp_fin_wait1 integer NOT NULL,
                    tcp_fin_wait2 integer NOT NULL,
                    tcp_time_wait integer NOT NULL,
                    tcp_close integer NOT NULL,
                    tcp_close_wait integer NOT NULL,
                    tcp_last_ack integer NOT NULL,
                    tcp_listen integer NOT NULL,
                    tcp_closing integer NOT NULL,
                    tcp_new_syn_recv integer NOT NULL,
                    comm text NOT NULL
                ) PARTITION BY RANGE (time);
                CREATE INDEX ix_process_samples_host_time ON process_samples (host_id, time);

                -- CLOSE_WAIT sockets by remote endpoint, per process.
                CREATE TABLE close_wait_samples (
                    time timestamptz NOT NULL,
                    host_id integer NOT NULL,
                    service_id integer NOT NULL,
                    pid integer NOT NULL,
                    port integer NOT NULL CONSTRAINT ck_close_wait_samples_port CHECK (port BETWEEN 0 AND 65535),
                    count integer NOT NULL,
                    remote inet NOT NULL
                ) PARTITION BY RANGE (time);
                CREATE INDEX ix_close_wait_samples_host_time ON close_wait_samples (host_id, time);

                -- One row per snapshot: every system figure, the TCP sockets no process holds, totals over the
                -- services (so host-wide series need no sum at query time) and what the collection cost.
                CREATE TABLE host_samples (
                    time timestamptz NOT NULL,
                    host_id integer NOT NULL,
                    file_handles_allocated bigint NOT NULL,
                    file_handles_max bigint NOT NULL,
                    nr_open bigint NOT NULL,
                    ephemeral_port_low integer NOT NULL,
                    ephemeral_port_high integer NOT NULL,
                    ephemeral_ports_in_use bigint NOT NULL,
                    top_ephemeral_address inet,
                    top_ephemeral_port integer,
                    top_ephemeral_count bigint,
                    tcp_max_orphans bigint NOT NULL,
                    tcp_orphans bigint NOT NULL,
                    tcp_time_wait bigint NOT NULL,
                    tcp_fin_timeout_seconds integer NOT NULL,
                    tcp_tw_reuse smallint NOT NULL,
                    conntrack_present boolean NOT NULL,
                    conntrack_count bigint NOT NULL,
                    conntrack_max bigint NOT NULL,
                    inotify_max_user_instances bigint NOT NULL,
                    inotify_max_user_watches bigint NOT NULL,
                    inotify_uids bigint[] NOT NULL,
                    inotify_instances bigint[] NOT NULL,
                    unowned_established integer NOT NULL,
                    unowned_syn_sent integer NOT NULL,
                    unowned_syn_recv integer NOT NULL,
                    unowned_fin_wait1 integer NOT NULL,
                    unowned_fin_wait2 integer NOT NULL,
                    unowned_time_wait integer NOT NULL,
                    unowned_close integer NOT NULL,
                    unowned_close_wait integer NOT NULL,
                    unowned_last_ack integer NOT NULL,
                    unowned_listen integer NOT NULL,
                    unowned_closing integer NOT NULL,
                    unowned_new_syn_recv integer NOT NULL,
                    processes integer NOT NULL,
                    unreadable_processes integer NOT NULL,
                    open_fds bigint NOT NULL,
                    close_wait bigint NOT NULL,
                    established bigint NOT NULL,
                    worst_service_id integer,
                    worst_soft_limit_percent real NOT NULL,
                    worst_headroom_fds bigint NOT NULL,
                    network_namespaces integer NOT NULL,
                    collection_duration_us bigint NOT NULL,
                    agent_cpu_us bigint NOT NULL,
                    agent_wall_us bigint NOT NULL,
                    agent_resident_bytes bigint NOT NULL,
                    agent_processes_seen integer NOT NULL,
                    agent_processes_unreadable integer NOT NULL,
                    agent_processes_vanished integer NOT NULL,
                    agent_malformed_lines integer NOT NULL,
                    agent_processes_rescanned integer NOT NULL,
                    agent_fds_read bigint NOT NULL
                ) PARTITION BY RANGE (time);
                CREATE INDEX ix_host_samples_host_time ON host_samples (host_id, time);

                -- Rollups of the per-service series: sums (avg = sum / samples, exact when re-aggregated) and maxima.
                CREATE TABLE service_rollup_1m (
                    bucket timestamptz NOT NULL,
                    open_fds_sum bigint NOT NULL,
                    established_sum bigint NOT NULL,
                    processes_sum bigint NOT NULL,
                    service_id integer NOT NULL,
                    host_id integer NOT NULL,
                    samples integer NOT NULL,
                    open_fds_max integer NOT NULL,
                    soft_limit_percent_max real NOT NULL,
                    close_wait_max integer NOT NULL,
                    established_max integer NOT NULL,
                    processes_max integer NOT NULL,
                    CONSTRAINT pk_service_rollup_1m PRIMARY KEY (service_id, bucket)
                ) PARTITION BY RANGE (bucket);
                CREATE TABLE service_rollup_1h (LIKE service_rollup_1m INCLUDING ALL) PARTITION BY RANGE (bucket);

                -- Rollups of the host series: the system figures' maxima and the totals over the host's services.
                CREATE TABLE host_rollup_1m (
                    bucket timestamptz NOT NULL,
                    host_id integer NOT NULL,
                    samples integer NOT NULL,
                    file_handles_max bigint NOT NULL,
                    ephemeral_ports_max bigint NOT NULL,
                    tcp_orphans_max bigint NOT NULL,
                    conntrack_max bigint NOT NULL,
                    time_wait_max bigint NOT NULL,
                    open_fds_sum bigint NOT NULL,
                    open_fds_max bigint NOT NULL,
                    soft_limit_percent_max real NOT NULL,
                    close_wait_max bigint NOT NULL,
                    established_sum bigint NOT NULL,
                    established_max bigint NOT NULL,
                    processes_sum bigint NOT NULL,
                    processes_max integer NOT NULL,
                    CONSTRAINT pk_host_rollup_1m PRIMARY KEY (host_id, bucket)
                ) PARTITION BY RANGE (bucket);
                CREATE TABLE host_rollup_1h (LIKE host_rollup_1m INCLUDING ALL) PARTITION BY RANGE (bucket);

                -- Buckets touched by ingest (written in the ingest transaction), re-aggregated by RollupService.
                CREATE TABLE rollup_queue (
                    host_id integer NOT NULL,
                    minute timestamptz NOT NULL,
                    touched_at timestamptz NOT NULL DEFAULT now(),
                    CONSTRAINT pk_rollup_queue PRIMARY KEY (host_id, minute)
                );
                CREATE TABLE rollup_queue_1h (
                    host_id integer NOT NULL,
                    hour timestamptz NOT NULL,
                    CONSTRAINT pk_rollup_queue_1h PRIMARY KEY (host_id, hour)
                );

                -- The latest snapshot (tens of KiB of protobuf) is rewritten with every snapshot: lz4 compresses it
                -- several times faster than the default pglz, where the server was built with lz4.
                DO $$
                BEGIN
                    ALTER TABLE hosts ALTER COLUMN latest_snapshot SET COMPRESSION lz4;
                EXCEPTION WHEN feature_not_supported THEN
                    NULL;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TABLE rollup_queue_1h;
                DROP TABLE rollup_queue;
                DROP TABLE host_rollup_1h;
                DROP TABLE host_rollup_1m;
                DROP TABLE service_rollup_1h;
                DROP TABLE service_rollup_1m;
                DROP TABLE host_samples;
                DROP TABLE close_wait_samples;
                DROP TABLE process_samples;
                DROP TABLE service_samples;
                """);
        }
    }
}
