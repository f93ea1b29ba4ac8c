/*
 * `ip netns add` without a program: a network namespace pinned at a path (iproute2's layout, under
 * a shared mount of its directory so that the pin propagates into other mount namespaces), made by a
 * fork of the helper that also brings its `lo` up. The fork is a request like a command: the helper
 * reports it when it is reaped, with its errors on stderr. A failed fork leaves PATH behind as an
 * empty file, which the agent removes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netns.h"

/* Makes dir a shared mount (binding it onto itself first when it is no mount point). */
static int make_shared(const char *dir, char *msg, size_t msglen) {
  int made = 0;
  while (mount("", dir, "none", MS_SHARED | MS_REC, NULL) != 0) {
    if (errno != EINVAL || made) return snprintf(msg, msglen, "mount --make-shared %s: %s", dir, strerror(errno)), -1;
    if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) != 0) return snprintf(msg, msglen, "mount --bind %s: %s", dir, strerror(errno)), -1;
    made = 1;
  }
  return 0;
}

/* In the fork: a new network namespace, lo up, pinned at path. Never returns. */
static void pin_new_netns(const char *path, int lo, int err_fd) {
  const char *what = "unshare(CLONE_NEWNET)";
  if (unshare(CLONE_NEWNET) == 0) {
    what = "lo up";
    int s = lo ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int up = !lo || (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) == 0));
    if (up) {
      what = "bind /proc/self/ns/net";
      if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) == 0) _exit(0);
    }
  }
  char m[4200];
  int n = snprintf(m, sizeof m, "%s: %s", what, strerror(errno));
  ssize_t w = write(err_fd, m, (size_t)n);
  (void)w;
  _exit(1);
}

pid_t netns_add_start(const char *path, int lo, int *err_fd, char *msg, size_t msglen) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return snprintf(msg, msglen, "netns path %s: not below a directory", path), -1;
  *slash = 0;
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) return snprintf(msg, msglen, "mkdir %s: %s", dir, strerror(errno)), -1;
  if (make_shared(dir, msg, msglen) != 0) return -1;
  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) return snprintf(msg, msglen, "cannot create namespace file %s: %s", path, strerror(errno)), -1;
  close(fd);
  int err[2];
  if (pipe2(err, O_CLOEXEC) != 0) {
    snprintf(msg, msglen, "pipe: %s", strerror(errno));
    unlink(path);
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) pin_new_netns(path, lo, err[1]);
  close(err[1]);
  if (pid < 0) {
    snprintf(msg, msglen, "fork: %s", strerror(errno));
    close(err[0]);
    unlink(path);
    return -1;
  }
  *err_fd = err[0];
  return pid;
}
