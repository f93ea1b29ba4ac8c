/*
 * `D`: a TCP connection to localhost:PORT inside a pod's network namespace, as the kubelet's
 * port-forward makes it (IPv4 127.0.0.1 first, then IPv6 ::1, 10 s each). A process can only make
 * sockets in its own namespace, so the helper joins the pod's (setns), makes one socket per family,
 * and returns to its own: a socket keeps the namespace it was made in. The connect then runs
 * non-blocking in the helper's poll loop, and the connected socket is handed to the agent
 * (ipc.c) — no relay process, no copy of the stream's bytes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "dial.h"
#include "ipc.h"
#include "reply.h"
#include "wire.h"

#define CONNECT_TIMEOUT_MS 10000

struct dial {
  long id;
  int ipc; /* where the connected socket goes */
  int port;
  int sock[2];      /* [0] IPv4, [1] IPv6; -1 when not made or handed on */
  int family;       /* the one connecting now: 0 or 1 */
  long long deadline;
  char why[2][300]; /* each family's failure */
  struct dial *next;
};

static int own_netns = -1;
static char unavailable[300];
/* The dials still connecting. */
static struct dial *dials;

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dial_init(char *msg, size_t msglen) {
  own_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (own_netns >= 0) return 0;
  snprintf(unavailable, sizeof unavailable, "open /proc/self/ns/net: %s", strerror(errno));
  return snprintf(msg, msglen, "%s", unavailable), -1;
}

static const char *const LABEL[2] = {"IPv4: dial 127.0.0.1", "IPv6: dial [::1]"};

/* Connects the current family, moving on to the next on an immediate failure (see dial_start). */
static int begin(struct dial *d, int *out, char *msg, size_t msglen) {
  for (; d->family < 2; d->family++) {
    int s = d->sock[d->family];
    if (s < 0) continue; /* why[] already says why it was not made */
    int rc;
    if (d->family == 0) {
      struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)d->port)};
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      rc = connect(s, (struct sockaddr *)&a, sizeof a);
    } else {
      struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((unsigned short)d->port), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
      rc = connect(s, (struct sockaddr *)&a, sizeof a);
    }
    if (rc == 0) {
      *out = s;
      d->sock[d->family] = -1;
      return 1;
    }
    if (errno == EINPROGRESS) {
      d->deadline = mono_ms() + CONNECT_TIMEOUT_MS;
      return 0;
    }
    snprintf(d->why[d->family], sizeof d->why[0], "%s:%d: connect: %s", LABEL[d->family], d->port, strerror(errno));
  }
  snprintf(msg, msglen, "%s, %s", d->why[0], d->why[1]);
  return -1;
}

static void dial_free(struct dial *d) {
  for (int i = 0; i < 2; i++)
    if (d->sock[i] >= 0) close(d->sock[i]);
  free(d);
}

/* Makes the sockets inside the namespace and starts connecting: see begin(); *dp when connecting. */
static int dial_start(long id, const char *netns_path, int port, struct dial **dp, int *out, char *msg, size_t msglen) {
  if (own_netns < 0) return snprintf(msg, msglen, "%s", unavailable), -1;
  if (port < 1 || port > 65535) return snprintf(msg, msglen, "invalid port %d", port), -1;
  int ns = open(netns_path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) return snprintf(msg, msglen, "open %s: %s", netns_path, strerror(errno)), -1;
  if (setns(ns, CLONE_NEWNET) != 0) {
    snprintf(msg, msglen, "setns %s: %s", netns_path, strerror(errno));
    close(ns);
    return -1;
  }
  close(ns);
  struct dial *d = calloc(1, sizeof *d);
  if (!d) abort();
  d->id = id;
  d->port = port;
  int families[2] = {AF_INET, AF_INET6};
  for (int i = 0; i < 2; i++) {
    d->sock[i] = socket(families[i], SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->sock[i] < 0) snprintf(d->why[i], sizeof d->why[0], "%s:%d: socket: %s", LABEL[i], port, strerror(errno));
  }
  /* Back home at once: every later socket, command and namespace of this helper is the host's. */
  if (setns(own_netns, CLONE_NEWNET) != 0) {
    fprintf(stderr, "berth-spawner: cannot return to its own network namespace: %s\n", strerror(errno));
    exit(1);
  }
  int rc = begin(d, out, msg, msglen);
  if (rc == 0) *dp = d;
  else dial_free(d);
  return rc;
}

/* After POLLOUT or the deadline (timed_out): as begin(). */
static int dial_step(struct dial *d, int timed_out, int *out, char *msg, size_t msglen) {
  int s = d->sock[d->family], err = 0;
  socklen_t len = sizeof err;
  if (timed_out) err = ETIMEDOUT;
  else if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) {
    *out = s;
    d->sock[d->family] = -1;
    return 1;
  }
  if (err == EINPROGRESS || err == EALREADY) return 0;
  snprintf(d->why[d->family], sizeof d->why[0], "%s:%d: connect: %s", LABEL[d->family], d->port, timed_out ? "i/o timeout" : strerror(err));
  d->family++;
  return begin(d, out, msg, msglen);
}

/* The outcome: the connected socket to the agent, or why there is none. */
static void done(long id, int ipc, int rc, int sock, const char *msg) {
  if (rc < 0) { reply_fail(id, msg); return; }
  if (ipc_send_socket(ipc, id, sock) != 0) {
    char m[300];
    snprintf(m, sizeof m, "cannot hand the connection to the agent: %s", strerror(errno));
    reply_fail(id, m);
  }
  close(sock);
}

void dial_request(long id, char **f, int nf, int ipc) {
  if (nf < 2) { reply_fail(id, "bad request"); return; }
  if (ipc < 0) { reply_fail(id, "no channel to hand a connection to the agent (NODE_CHANNEL_FD)"); return; }
  char *path = unb64(f[0], NULL);
  char msg[700];
  struct dial *d = NULL;
  int sock = -1;
  int rc = dial_start(id, path, atoi(f[1]), &d, &sock, msg, sizeof msg);
  free(path);
  if (rc != 0) { done(id, ipc, rc, sock, msg); return; }
  d->ipc = ipc;
  d->next = dials;
  dials = d;
}

size_t dial_count(void) {
  size_t n = 0;
  for (struct dial *d = dials; d; d = d->next) n++;
  return n;
}

size_t dial_pollfds(struct pollfd *pf, int *timeout_ms) {
  size_t n = 0;
  long long now = mono_ms();
  for (struct dial *d = dials; d; d = d->next) {
    pf[n++] = (struct pollfd){d->sock[d->family], POLLOUT, 0};
    long long left = d->deadline - now;
    int t = left < 0 ? 0 : left > CONNECT_TIMEOUT_MS ? CONNECT_TIMEOUT_MS : (int)left;
    if (*timeout_ms < 0 || t < *timeout_ms) *timeout_ms = t;
  }
  return n;
}

void dial_after_poll(const struct pollfd *pf, size_t n) {
  long long now = mono_ms();
  for (struct dial **pp = &dials; *pp;) {
    struct dial *d = *pp;
    int ready = 0;
    for (size_t k = 0; k < n; k++) if (pf[k].fd == d->sock[d->family] && pf[k].revents) ready = 1;
    int timed_out = !ready && now >= d->deadline;
    char msg[700];
    int sock = -1;
    int rc = ready || timed_out ? dial_step(d, timed_out, &sock, msg, sizeof msg) : 0;
    if (rc == 0) { pp = &d->next; continue; }
    *pp = d->next;
    done(d->id, d->ipc, rc, sock, msg);
    dial_free(d);
  }
}
