/*
 * proc_fd_walk: the plainest way to count every open fd on the host, as a baseline for the agent.
 *
 *   proc_fd_walk              lists every /proc/PID/fd directory (opendir/readdir) and counts entries
 *   proc_fd_walk --readlink   also reads the target of every entry (readlinkat), as the agent must
 *
 * Prints "processes fds links" on stderr (stdout is left for the caller to discard).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int with_readlink = argc > 1 && strcmp(argv[1], "--readlink") == 0;
    DIR *proc = opendir("/proc");
    if (proc == NULL) {
        perror("/proc");
        return 1;
    }
    long processes = 0, fds = 0, links = 0;
    char path[300], target[4096];
    struct dirent *p;
    while ((p = readdir(proc)) != NULL) {
        if (p->d_name[0] < '1' || p->d_name[0] > '9') {
            continue;
        }
        snprintf(path, sizeof path, "/proc/%s/fd", p->d_name);
        DIR *dir = opendir(path);
        if (dir == NULL) {
            continue;
        }
        processes++;
        int dfd = dirfd(dir);
        struct dirent *f;
        while ((f = readdir(dir)) != NULL) {
            if (f->d_name[0] == '.') {
                continue;
            }
            fds++;
            if (with_readlink && readlinkat(dfd, f->d_name, target, sizeof target) > 0) {
                links++;
            }
        }
        closedir(dir);
    }
    closedir(proc);
    fprintf(stderr, "%ld %ld %ld\n", processes, fds, links);
    return 0;
}
