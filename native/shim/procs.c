/*
 * The shim's view of its processes: who the container's init is (runc's pid file, /proc), when tini
 * has forked the command, reaping as a subreaper, and short backing-off naps while it looks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "procs.h"

/* Reads a small file (a /proc entry, a pid file) into buf, NUL-terminated: its length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t r = read(fd, buf, size - 1);
  close(fd);
  if (r < 0) return -1;
  buf[r] = 0;
  return r;
}

/* Parent pid of a process (from /proc/PID/stat), or -1. */
static long parent_of(long pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  ssize_t r = read_small(path, buf, sizeof buf);
  if (r <= 0) return -1;
  char *rp = strrchr(buf, ')');
  long ppid;
  char st;
  if (!rp || sscanf(rp + 1, " %c %ld", &st, &ppid) != 2) return -1;
  return ppid;
}

/* True once the process has a child (tini has forked the command); false where unknown. */
int has_child(long pid) {
  char path[96], buf[64];
  snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", pid, pid);
  ssize_t r = read_small(path, buf, sizeof buf);
  if (r < 0) return -1;
  return r > 0 && buf[0] >= '0' && buf[0] <= '9';
}

/* A pid listed in `file` whose parent is `parent` (runc's pid file names the container's init). */
long find_init(const char *file, long parent) {
  char buf[4096];
  ssize_t r = read_small(file, buf, sizeof buf);
  if (r <= 0) return 0;
  for (char *save = NULL, *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
    long p = atol(t);
    if (p > 0 && p != parent && parent_of(p) == parent) return p;
  }
  return 0;
}

/* The first pid in `file` other than `not` (runc's pid file after `runc create`), or 0. */
long pid_in_file(const char *file, long not) {
  char buf[64];
  ssize_t r = read_small(file, buf, sizeof buf);
  if (r <= 0) return 0;
  long p = atol(buf);
  return p > 0 && p != not ? p : 0;
}

/* Reaps children (as a subreaper there can be orphans besides `target`); 1 once `target` is reaped,
 * its status in *status. block: wait until then (or until there is no child left). */
int reap_target(pid_t target, int *status, int block) {
  for (;;) {
    int st;
    pid_t p = waitpid(-1, &st, block ? 0 : WNOHANG);
    if (p < 0 && errno == EINTR) continue;
    if (p <= 0) return 0;
    if (p == target) {
      *status = st;
      return 1;
    }
  }
}

void nap(double *delay) {
  struct timespec ts = {0, (long)(*delay * 1e9)};
  nanosleep(&ts, NULL);
  if (*delay < 0.004) *delay *= 2; /* 0.25 ms, doubling to 4 ms: quick when idle, few wake-ups when busy */
}
