/*
 * The channel over which the helper hands sockets to the agent: Node's IPC channel, the one
 * `child_process.spawn(…, { stdio: [..., 'ipc'] })` opens (a Unix socket at NODE_CHANNEL_FD). A
 * socket travels as SCM_RIGHTS beside one JSON line, the message format in which one Node process
 * sends another a net.Socket (`subprocess.send(msg, socket)`): the agent receives it as a connected
 * net.Socket in its 'message' event, as Node's cluster module hands connections to workers. The
 * agent answers each with {"cmd":"NODE_HANDLE_ACK"}, which the helper reads and drops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "ipc.h"

int ipc_open(void) {
  const char *v = getenv("NODE_CHANNEL_FD");
  if (!v || !*v) return -1;
  int fd = atoi(v);
  if (fd < 3 || fcntl(fd, F_GETFD) < 0) return -1;
  /* Blocking sends (a line and a descriptor at a time); never inherited by what the helper starts. */
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

int ipc_send_socket(int ipc, long id, int fd) {
  char line[128];
  int n = snprintf(line, sizeof line, "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"berthDial\":%ld}}\n", id);
  struct iovec iov = {line, (size_t)n};
  union {
    struct cmsghdr h;
    char b[CMSG_SPACE(sizeof(int))];
  } c;
  memset(&c, 0, sizeof c);
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(h), &fd, sizeof fd);
  for (;;) {
    ssize_t w = sendmsg(ipc, &m, MSG_NOSIGNAL);
    if (w == n) return 0;
    if (w < 0 && errno == EINTR) continue;
    if (w >= 0) errno = EIO; /* a short write would split the line from its descriptor */
    return -1;
  }
}

int ipc_drain(int ipc) {
  char buf[4096];
  ssize_t r = read(ipc, buf, sizeof buf);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  return r > 0;
}
