namespace Fleet.Agent.Simulation;

/// <summary>Where a simulated service runs, which decides its cgroup and so its default service name.</summary>
internal enum Placement
{
    InitScope,
    Systemd,
    Docker,
    Kubernetes,
}

/// <summary>
/// A kind of service a simulated host may run: its processes (a main one and a range of workers), their
/// file descriptors at full load, threads, listening port, the share of their fds that are TCP sockets and
/// the upstream its outbound connections go to.
/// </summary>
internal sealed record ServiceTemplate(
    string Key,
    Placement Placement,
    string Unit,
    string Comm,
    string Exe,
    string Cmdline,
    string WorkerCmdline,
    int WorkersMin,
    int WorkersMax,
    int FdsMin,
    int FdsMax,
    int ThreadsMin,
    int ThreadsMax,
    uint Uid,
    ushort ListenPort,
    double TcpShare,
    string? Upstream = null,
    string Namespace = "",
    bool FrontFacing = false,
    bool Pool = false,
    bool Sidecar = false,
    bool Inotify = false);

/// <summary>The services simulated hosts are made of: the system's own, and applications to pick from.</summary>
internal static class ServiceCatalog
{
    /// <summary>The remote whose sockets pile up in CLOSE_WAIT on hosts with that behaviour.</summary>
    public const string CloseWaitRemote = "10.0.3.7:443";

    public static IReadOnlyList<ServiceTemplate> System { get; } =
    [
        new("systemd", Placement.InitScope, "init.scope", "systemd", "/usr/lib/systemd/systemd", "/sbin/init", "", 0, 0, 90, 180, 1, 1, 0, 0, 0, Inotify: true),
        new("journald", Placement.Systemd, "systemd-journald.service", "systemd-journal", "/usr/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald", "", 0, 0, 40, 120, 1, 1, 0, 0, 0, Inotify: true),
        new("sshd", Placement.Systemd, "ssh.service", "sshd", "/usr/sbin/sshd", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", "sshd: admin [priv]", 0, 4, 6, 12, 1, 1, 0, 22, 0.3),
        new("cron", Placement.Systemd, "cron.service", "cron", "/usr/sbin/cron", "/usr/sbin/cron -f", "", 0, 0, 5, 8, 1, 1, 0, 0, 0),
        new("rsyslog", Placement.Systemd, "rsyslog.service", "rsyslogd", "/usr/sbin/rsyslogd", "/usr/sbin/rsyslogd -n -iNONE", "", 0, 0, 10, 20, 4, 4, 104, 0, 0),
        new("fleet-agent", Placement.Systemd, "fleet-agent.service", "fleet-agent", "/usr/local/bin/fleet-agent", "/usr/local/bin/fleet-agent run --server https://fleet.example:7443 --token-file /etc/fleet/token --state-dir /var/lib/fleet-agent", "", 0, 0, 10, 16, 6, 8, 0, 0, 0.1),
    ];

    public static ServiceTemplate Containerd { get; } =
        new("containerd", Placement.Systemd, "containerd.service", "containerd", "/usr/bin/containerd", "/usr/bin/containerd", "", 0, 0, 60, 300, 12, 30, 0, 0, 0.05, Inotify: true);

    public static ServiceTemplate Dockerd { get; } =
        new("dockerd", Placement.Systemd, "docker.service", "dockerd", "/usr/bin/dockerd", "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock", "", 0, 0, 50, 400, 15, 40, 0, 0, 0.05, Inotify: true);

    public static ServiceTemplate Kubelet { get; } =
        new("kubelet", Placement.Systemd, "kubelet.service", "kubelet", "/usr/bin/kubelet", "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf", "", 0, 0, 60, 200, 20, 40, 0, 10250, 0.4, "10.0.0.10:6443", Inotify: true);

    public static ServiceTemplate Envoy { get; } =
        new("envoy", Placement.Kubernetes, "", "envoy", "/usr/local/bin/envoy", "envoy -c /etc/istio/proxy/envoy-rev.json --drain-time-s 45 --concurrency 2", "", 0, 0, 50, 220, 14, 20, 1337, 15001, 0.8);

    public static IReadOnlyList<ServiceTemplate> Applications { get; } =
    [
        new("nginx", Placement.Systemd, "nginx.service", "nginx", "/usr/sbin/nginx", "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;", "nginx: worker process", 2, 8, 30, 300, 1, 1, 33, 443, 0.7, "10.0.2.15:8080", FrontFacing: true),
        new("orders", Placement.Docker, "shop-orders-1", "java", "/opt/java/openjdk/bin/java", "java -Xms1g -Xmx2g -jar /app/orders-service.jar --spring.profiles.active=prod", "", 0, 0, 300, 1400, 80, 260, 1000, 8080, 0.5, "10.0.4.20:5432", FrontFacing: true),
        new("postgres", Placement.Systemd, "postgresql@15-main.service", "postgres", "/usr/lib/postgresql/15/bin/postgres", "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf", "postgres: 15/main: app orders 10.0.2.15(48812) idle", 20, 120, 12, 45, 1, 1, 105, 5432, 0.08, Pool: true),
        new("web-frontend", Placement.Docker, "web-frontend-1", "node", "/usr/local/bin/node", "node /app/server.js", "node /app/server.js --worker", 0, 3, 60, 400, 7, 11, 1000, 3000, 0.6, CloseWaitRemote, FrontFacing: true, Inotify: true),
        new("redis", Placement.Systemd, "redis-server.service", "redis-server", "/usr/bin/redis-server", "/usr/bin/redis-server 127.0.0.1:6379", "", 0, 0, 25, 250, 4, 6, 110, 6379, 0.85),
        new("checkout", Placement.Kubernetes, "checkout-7d9f8b6c4-x2k9p", "python3", "/usr/local/bin/python3.11", "/usr/local/bin/python3.11 /usr/local/bin/gunicorn checkout.wsgi -w 4 -b 0.0.0.0:8000", "/usr/local/bin/python3.11 /usr/local/bin/gunicorn checkout.wsgi -w 4 -b 0.0.0.0:8000", 2, 6, 20, 90, 1, 3, 1000, 8000, 0.4, CloseWaitRemote, Namespace: "shop", FrontFacing: true, Sidecar: true),
        new("billing", Placement.Systemd, "gunicorn-billing.service", "gunicorn", "/srv/billing/venv/bin/python3", "/srv/billing/venv/bin/python3 /srv/billing/venv/bin/gunicorn billing.app:app --workers 6", "/srv/billing/venv/bin/python3 /srv/billing/venv/bin/gunicorn billing.app:app --workers 6", 3, 9, 15, 70, 1, 2, 998, 8001, 0.35, "10.0.4.20:5432"),
        new("kafka", Placement.Systemd, "kafka.service", "java", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "java -Xmx4g -server -cp /opt/kafka/libs/* kafka.Kafka /opt/kafka/config/server.properties", "", 0, 0, 1500, 4000, 90, 180, 997, 9092, 0.15),
        new("search", Placement.Docker, "search-es-1", "java", "/usr/share/elasticsearch/jdk/bin/java", "/usr/share/elasticsearch/jdk/bin/java -Xms2g -Xmx2g -Des.path.home=/usr/share/elasticsearch org.elasticsearch.bootstrap.Elasticsearch", "", 0, 0, 1200, 5000, 60, 140, 1000, 9200, 0.1),
        new("memcached", Placement.Systemd, "memcached.service", "memcached", "/usr/bin/memcached", "/usr/bin/memcached -m 1024 -p 11211 -u memcache -l 127.0.0.1 -c 4096", "", 0, 0, 20, 900, 10, 10, 111, 11211, 0.9),
        new("celery", Placement.Systemd, "celery-worker.service", "celery", "/srv/tasks/venv/bin/python3", "/srv/tasks/venv/bin/python3 -m celery -A tasks worker --concurrency=8", "/srv/tasks/venv/bin/python3 -m celery -A tasks worker --concurrency=8", 4, 12, 12, 40, 1, 3, 999, 0, 0.3, "10.0.4.21:6379", Pool: true),
        new("php-fpm", Placement.Systemd, "php8.2-fpm.service", "php-fpm8.2", "/usr/sbin/php-fpm8.2", "php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)", "php-fpm: pool www", 10, 60, 10, 30, 1, 1, 33, 9000, 0.2, "10.0.4.20:3306", Pool: true),
        new("haproxy", Placement.Systemd, "haproxy.service", "haproxy", "/usr/sbin/haproxy", "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid -S /run/haproxy-master.sock", "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid -S /run/haproxy-master.sock", 1, 1, 100, 1800, 2, 4, 99, 443, 0.9, "10.0.2.16:8080", FrontFacing: true),
        new("payments", Placement.Kubernetes, "payments-api-5f6d8c9b7-qw4rt", "java", "/usr/lib/jvm/java-21-openjdk/bin/java", "java -XX:MaxRAMPercentage=75 -jar /app/payments-api.jar", "", 0, 0, 250, 900, 60, 200, 1001, 8443, 0.5, CloseWaitRemote, Namespace: "payments", FrontFacing: true, Sidecar: true),
        new("notifier", Placement.Systemd, "notifier.service", "node", "/usr/bin/node", "node /srv/notifier/dist/main.js", "node /srv/notifier/dist/main.js --worker", 1, 3, 40, 200, 7, 11, 1002, 0, 0.6, CloseWaitRemote, Inotify: true),
    ];

    /// <summary>Kernels the hosts of a simulated fleet run.</summary>
    public static IReadOnlyList<string> Kernels { get; } =
        ["6.1.0-28-amd64", "6.1.0-31-amd64", "5.15.0-126-generic", "6.8.0-49-generic", "5.14.0-503.15.1.el9_5.x86_64", "6.6.63-flatcar"];
}
