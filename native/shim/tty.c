/*
 * The container's terminal (the process runtime's `tty: true`, as conmon's console handling): the
 * shim holds the master of a pseudo-terminal whose slave is the container's stdio, types the stdin
 * FIFO's bytes into it and sets its size from the resize FIFO's lines (kubectl attach -t resizes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "container-setup.h"
#include "tty.h"

int tty_open(char *slave, size_t n) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return -1;
  if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, slave, n) != 0) {
    int saved = errno;
    close(master);
    errno = saved;
    return -1;
  }
  struct winsize ws = {.ws_row = 24, .ws_col = 80};
  ioctl(master, TIOCSWINSZ, &ws);
  return master;
}

void tty_attach(const char *slave) {
  int t = setsid() < 0 ? -1 : open(slave, O_RDWR);
  if (t < 0 || ioctl(t, TIOCSCTTY, 0) != 0) child_fail(125, "terminal %s: %s", slave, strerror(errno));
  if (dup2(t, 0) < 0 || dup2(t, 1) < 0 || dup2(t, 2) < 0) _exit(125);
  if (t > 2) close(t);
}

void tty_type(int in_fd, int master) {
  char buf[4096];
  ssize_t got = read(in_fd, buf, sizeof buf);
  for (char *p = buf; got > 0;) {
    ssize_t w = write(master, p, (size_t)got);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    got -= w;
  }
}

void tty_resize(int rz_fd, int master) {
  char buf[256];
  ssize_t got = read(rz_fd, buf, sizeof buf - 1);
  if (got <= 0) return;
  buf[got] = 0;
  unsigned cols, rows;
  for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (sscanf(line, "%u %u", &cols, &rows) != 2) continue;
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    ioctl(master, TIOCSWINSZ, &ws);
  }
}
