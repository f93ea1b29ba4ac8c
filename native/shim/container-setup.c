/*
 * The container's first process, set up with system calls before it execs anything: what
 * `unshare --mount --uts --propagation private --mount-proc`, a setup script (hostname, bind mounts,
 * cwd) and `nsenter --net` would do. It runs in the shim's fork, after the cgroup join.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "container-setup.h"

/* In the container's first process, before exec: the message goes to the container's stderr. */
void child_fail(int code, const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  ssize_t w = write(2, "berth: ", 7);
  w = write(2, buf, n);
  (void)w;
  _exit(code);
}

static void sys_mount(const char *src, const char *target, const char *type, unsigned long flags) {
  if (mount(src, target, type, flags, NULL) != 0) child_fail(125, "mount %s: %s", target, strerror(errno));
}

/* The per-mount flags (nosuid, nodev, noexec, atime) of the mount at target, from mountinfo: a
 * read-only remount keeps them, as mount(8) does. */
static unsigned long mount_flags_of(const char *target) {
  char real[PATH_MAX];
  if (!realpath(target, real)) snprintf(real, sizeof real, "%s", target);
  FILE *mi = fopen("/proc/self/mountinfo", "re");
  if (!mi) return 0;
  char *line = NULL, opts[4096] = "";
  size_t cap = 0;
  while (getline(&line, &cap, mi) > 0) {
    char *f[7];
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok && n < 7; tok = strtok_r(NULL, " ", &save)) f[n++] = tok;
    if (n < 6) continue;
    char mp[PATH_MAX];
    size_t j = 0;
    for (const char *c = f[4]; *c && j < sizeof mp - 1; c++) {
      if (c[0] == '\\' && c[1] >= '0' && c[1] <= '7' && c[2] >= '0' && c[2] <= '7' && c[3] >= '0' && c[3] <= '7') {
        mp[j++] = (char)((c[1] - '0') * 64 + (c[2] - '0') * 8 + (c[3] - '0'));
        c += 3;
      } else {
        mp[j++] = *c;
      }
    }
    mp[j] = 0;
    if (strcmp(mp, real) == 0) snprintf(opts, sizeof opts, "%s", f[5]);
  }
  free(line);
  fclose(mi);
  unsigned long flags = 0;
  for (char *save = NULL, *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
    if (!strcmp(o, "nosuid")) flags |= MS_NOSUID;
    else if (!strcmp(o, "nodev")) flags |= MS_NODEV;
    else if (!strcmp(o, "noexec")) flags |= MS_NOEXEC;
    else if (!strcmp(o, "noatime")) flags |= MS_NOATIME;
    else if (!strcmp(o, "nodiratime")) flags |= MS_NODIRATIME;
    else if (!strcmp(o, "relatime")) flags |= MS_RELATIME;
  }
  return flags;
}

/* What `unshare --mount --uts --propagation private --mount-proc`, a setup script (hostname, bind
 * mounts, cwd) and `nsenter --net` would do. Returns the argv to exec. */
char **native_setup(int argc, char **argv) {
  if (argc < 4) child_fail(125, "native chain: too few arguments");
  const char *host = argv[0], *wd = argv[1], *netns = argv[2];
  long n = atol(argv[3]);
  if (n < 0 || 4 + 3 * n > argc) child_fail(125, "native chain: bad mount count");
  /* The container dies with its shim: never an unsupervised copy. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(125, "prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
  if (*netns) {
    int fd = open(netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0) child_fail(125, "network namespace %s: %s", netns, strerror(errno));
    if (setns(fd, CLONE_NEWNET) != 0) child_fail(125, "setns %s: %s", netns, strerror(errno));
    close(fd);
  }
  if (unshare(CLONE_NEWNS | CLONE_NEWUTS) != 0) child_fail(125, "unshare(mount, uts): %s", strerror(errno));
  sys_mount("none", "/", NULL, MS_REC | MS_PRIVATE);
  sys_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  /* Our own UTS namespace: this hostname is the container's only. */
  if (sethostname(host, strlen(host)) != 0) child_fail(125, "sethostname: %s", strerror(errno));
  for (long i = 0; i < n; i++) {
    const char *src = argv[4 + 3 * i], *dst = argv[5 + 3 * i], *mode = argv[6 + 3 * i];
    sys_mount(src, dst, NULL, MS_BIND);
    if (!strcmp(mode, "ro")) sys_mount("none", dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | mount_flags_of(dst));
  }
  if (*wd && chdir(wd) != 0) child_fail(125, "cd %s: %s", wd, strerror(errno));
  return argv + 4 + 3 * n;
}
