/*
 * holder: keeps a share of the benchmark workload open, then blocks until told to change it or to exit.
 * Compiled with gcc by the benchmark runner at run time; talks to the runner one line at a time.
 *
 *   holder server CLOSE_LISTENERS KEEP_LISTENERS NOFILE
 *       Listens on 127.0.0.1 (ephemeral ports) and prints "ports close=P,P keep=P,P".
 *       A "close" listener accepts and closes its sending end at once (shutdown, which sends the FIN),
 *       so the connecting side sits in CLOSE_WAIT and this side in FIN_WAIT2. The socket is kept: a fully
 *       closed, orphaned FIN_WAIT2 socket expires after tcp_fin_timeout, and on one path the kernel then
 *       resets the connection, which would take the other side out of CLOSE_WAIT.
 *       A "keep" listener accepts and sends one byte; both sides stay ESTABLISHED.
 *       Either kind of accepted socket is closed when the peer closes it.
 *       Commands: ping, quit.
 *
 *   holder client nofile=N [files=PATH:N] [pipes=N] [eventfds=N] [cw=PORT:N ...] [est=PORT:N ...]
 *       Opens all of that, prints "ready", then answers:
 *       report    its own account of its fds, TCP states, CLOSE_WAIT remotes and RLIMIT_NOFILE
 *       churn K   closes K CLOSE_WAIT and K ESTABLISHED sockets and connects new ones under the same
 *                 fd numbers, then reports
 *       ping      answers "ok" (the process runs but changes nothing)
 *       quit
 *
 * Both start from stdio alone (every other inherited fd is closed) and exit when stdin reaches end of
 * file, so a runner that dies takes its holders with it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENDPOINTS 32

static void die(const char *what)
{
    printf("error %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

static void raise_nofile(long wanted)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        die("getrlimit");
    }
    if ((long)lim.rlim_max < wanted) {
        lim.rlim_max = (rlim_t)wanted;
    }
    lim.rlim_cur = (rlim_t)wanted;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
        die("setrlimit RLIMIT_NOFILE");
    }
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* ---------------------------------------------------------------- server */

enum { NONE, CLOSE_LISTENER, KEEP_LISTENER, ACCEPTED, STDIN_FD };

static int listen_on_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        die("socket");
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = loopback(0);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4096) != 0) {
        die("bind/listen");
    }
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

static int run_server(int nclose, int nkeep, long nofile)
{
    raise_nofile(nofile);
    unsigned char *role = calloc((size_t)nofile, 1);
    int ep = epoll_create1(0);
    if (role == NULL || ep < 0) {
        die("epoll_create1");
    }
    struct epoll_event ev = { .events = EPOLLIN };
    ev.data.fd = 0;
    role[0] = STDIN_FD;
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);

    char close_ports[256] = "", keep_ports[256] = "";
    for (int i = 0; i < nclose + nkeep; i++) {
        int port;
        int fd = listen_on_loopback(&port);
        role[fd] = i < nclose ? CLOSE_LISTENER : KEEP_LISTENER;
        char *list = i < nclose ? close_ports : keep_ports;
        snprintf(list + strlen(list), 256 - strlen(list), "%s%d", *list ? "," : "", port);
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    printf("ports close=%s keep=%s\n", close_ports, keep_ports);
    fflush(stdout);

    char line[256];
    size_t used = 0;
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (role[fd] == CLOSE_LISTENER || role[fd] == KEEP_LISTENER) {
                int c;
                while ((c = accept4(fd, NULL, NULL, 0)) >= 0) {
                    int ok = role[fd] == CLOSE_LISTENER ? shutdown(c, SHUT_WR) == 0 : send(c, "k", 1, MSG_NOSIGNAL) == 1;
                    if (!ok) {
                        close(c);
                        continue;
                    }
                    role[c] = ACCEPTED;
                    ev.events = EPOLLIN | EPOLLRDHUP;
                    ev.data.fd = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                }
            } else if (role[fd] == ACCEPTED) {
                char buf[64];
                ssize_t got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (got <= 0 && !(got < 0 && errno == EAGAIN)) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                    role[fd] = NONE;
                    close(fd);
                }
            } else if (role[fd] == STDIN_FD) {
                ssize_t got = read(0, line + used, sizeof line - 1 - used);
                if (got <= 0) {
                    return 0;
                }
                used += (size_t)got;
                line[used] = 0;
                char *nl;
                while ((nl = strchr(line, '\n')) != NULL) {
                    *nl = 0;
                    if (strcmp(line, "quit") == 0) {
                        return 0;
                    }
                    printf(strcmp(line, "ping") == 0 ? "ok\n" : "error unknown command\n");
                    fflush(stdout);
                    used -= (size_t)(nl + 1 - line);
                    memmove(line, nl + 1, used + 1);
                }
                if (used == sizeof line - 1) {
                    used = 0;
                }
            }
        }
    }
}

/* ---------------------------------------------------------------- client */

struct conn {
    int fd;
    int port;
};

static struct conn *cw, *est;
static int ncw, nest, next_cw, next_est;
static int nfiles, npipes, neventfds;

/* Connects to 127.0.0.1:port; a CLOSE_WAIT connection returns once the peer's FIN is in (recv gives 0),
 * an ESTABLISHED one once the peer's greeting byte is in (so the peer has accepted it). */
static int connect_loopback(int port, int want_close_wait)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        die("socket");
    }
    struct sockaddr_in a = loopback(port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        die("connect");
    }
    char b;
    ssize_t got = recv(fd, &b, 1, 0);
    if (want_close_wait ? got != 0 : got != 1) {
        errno = got < 0 ? errno : EPROTO;
        die(want_close_wait ? "waiting for the peer's FIN" : "waiting for the peer's greeting");
    }
    return fd;
}

/* Replaces the connection's socket by a new one under the same fd number. */
static void reconnect(struct conn *c, int want_close_wait)
{
    close(c->fd);
    int fd = connect_loopback(c->port, want_close_wait);
    if (fd != c->fd) {
        if (dup2(fd, c->fd) < 0) {
            die("dup2");
        }
        close(fd);
    }
}

static void report(void)
{
    /* Kinds of the fds the runner gave (stdio), then everything this holder opened itself. */
    const char *names[] = { "RegularFile", "Pipe", "CharDevice", "Directory", "Other" };
    int counts_by_kind[5] = { 0 }, stdio_open = 0;
    for (int fd = 0; fd < 3; fd++) {
        struct stat st;
        if (fstat(fd, &st) != 0) {
            continue;
        }
        stdio_open++;
        switch (st.st_mode & S_IFMT) {
        case S_IFREG: counts_by_kind[0]++; break;
        case S_IFIFO: counts_by_kind[1]++; break;
        case S_IFCHR: counts_by_kind[2]++; break;
        case S_IFDIR: counts_by_kind[3]++; break;
        default: counts_by_kind[4]++; break;
        }
    }
    counts_by_kind[0] += nfiles;
    counts_by_kind[1] += 2 * npipes;
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    printf("report open_fds=%d", stdio_open + nfiles + 2 * npipes + neventfds + ncw + nest);
    for (int i = 0; i < 5; i++) {
        if (counts_by_kind[i] > 0) {
            printf(" fd.%s=%d", names[i], counts_by_kind[i]);
        }
    }
    if (neventfds > 0) {
        printf(" fd.Eventfd=%d", neventfds);
    }
    if (ncw + nest > 0) {
        printf(" fd.SocketTcp=%d", ncw + nest);
    }
    if (ncw > 0) {
        printf(" tcp.CloseWait=%d", ncw);
    }
    if (nest > 0) {
        printf(" tcp.Established=%d", nest);
    }
    printf(" nofile_soft=%llu nofile_hard=%llu", (unsigned long long)lim.rlim_cur, (unsigned long long)lim.rlim_max);
    int ports[MAX_ENDPOINTS], counts[MAX_ENDPOINTS], nports = 0;
    for (int i = 0; i < ncw; i++) {
        int j = 0;
        while (j < nports && ports[j] != cw[i].port) {
            j++;
        }
        if (j == nports) {
            ports[nports] = cw[i].port;
            counts[nports++] = 0;
        }
        counts[j]++;
    }
    for (int j = 0; j < nports; j++) {
        printf(" cw.127.0.0.1:%d=%d", ports[j], counts[j]);
    }
    printf("\n");
    fflush(stdout);
}

static int run_client(int argc, char **argv)
{
    long nofile = 0;
    const char *file = NULL;
    int cw_ports[MAX_ENDPOINTS], cw_counts[MAX_ENDPOINTS], ncw_ep = 0;
    int est_ports[MAX_ENDPOINTS], est_counts[MAX_ENDPOINTS], nest_ep = 0;
    for (int i = 0; i < argc; i++) {
        char *v = strchr(argv[i], '=');
        if (v == NULL) {
            errno = EINVAL;
            die(argv[i]);
        }
        *v++ = 0;
        if (strcmp(argv[i], "nofile") == 0) {
            nofile = atol(v);
        } else if (strcmp(argv[i], "files") == 0) {
            char *colon = strrchr(v, ':');
            *colon = 0;
            file = v;
            nfiles = atoi(colon + 1);
        } else if (strcmp(argv[i], "pipes") == 0) {
            npipes = atoi(v);
        } else if (strcmp(argv[i], "eventfds") == 0) {
            neventfds = atoi(v);
        } else if ((strcmp(argv[i], "cw") == 0 && ncw_ep < MAX_ENDPOINTS) ||
                   (strcmp(argv[i], "est") == 0 && nest_ep < MAX_ENDPOINTS)) {
            int is_cw = argv[i][0] == 'c';
            int *ports = is_cw ? cw_ports : est_ports, *counts = is_cw ? cw_counts : est_counts;
            int *n = is_cw ? &ncw_ep : &nest_ep;
            if (sscanf(v, "%d:%d", &ports[*n], &counts[*n]) != 2) {
                errno = EINVAL;
                die(v);
            }
            (*n)++;
        } else {
            errno = EINVAL;
            die(argv[i]);
        }
    }
    raise_nofile(nofile);

    for (int i = 0; i < nfiles; i++) {
        if (open(file, O_RDONLY) < 0) {
            die("open");
        }
    }
    for (int i = 0; i < npipes; i++) {
        int p[2];
        if (pipe(p) != 0) {
            die("pipe");
        }
    }
    for (int i = 0; i < neventfds; i++) {
        if (eventfd(0, 0) < 0) {
            die("eventfd");
        }
    }
    for (int e = 0; e < ncw_ep; e++) {
        ncw += cw_counts[e];
    }
    for (int e = 0; e < nest_ep; e++) {
        nest += est_counts[e];
    }
    cw = calloc((size_t)ncw + 1, sizeof *cw);
    est = calloc((size_t)nest + 1, sizeof *est);
    int k = 0;
    for (int e = 0; e < ncw_ep; e++) {
        for (int i = 0; i < cw_counts[e]; i++, k++) {
            cw[k].port = cw_ports[e];
            cw[k].fd = connect_loopback(cw_ports[e], 1);
        }
    }
    k = 0;
    for (int e = 0; e < nest_ep; e++) {
        for (int i = 0; i < est_counts[e]; i++, k++) {
            est[k].port = est_ports[e];
            est[k].fd = connect_loopback(est_ports[e], 0);
        }
    }
    printf("ready\n");
    fflush(stdout);

    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\n")] = 0;
        int churn;
        if (strcmp(line, "quit") == 0) {
            return 0;
        } else if (strcmp(line, "ping") == 0) {
            printf("ok\n");
            fflush(stdout);
        } else if (strcmp(line, "report") == 0) {
            report();
        } else if (sscanf(line, "churn %d", &churn) == 1) {
            for (int i = 0; i < churn && ncw > 0; i++) {
                reconnect(&cw[next_cw++ % ncw], 1);
            }
            for (int i = 0; i < churn && nest > 0; i++) {
                reconnect(&est[next_est++ % nest], 0);
            }
            report();
        } else {
            printf("error unknown command\n");
            fflush(stdout);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* Start from stdio alone: fds the runner inherited without close-on-exec are not part of the plan. */
    if (close_range(3, ~0U, 0) != 0) {
        die("close_range");
    }
    signal(SIGPIPE, SIG_IGN);
    if (argc == 5 && strcmp(argv[1], "server") == 0) {
        return run_server(atoi(argv[2]), atoi(argv[3]), atol(argv[4]));
    }
    if (argc >= 2 && strcmp(argv[1], "client") == 0) {
        return run_client(argc - 2, argv + 2);
    }
    fprintf(stderr, "usage: holder server CLOSE KEEP NOFILE | holder client nofile=N ...\n");
    return 2;
}
