/*
 * Self-fencing (issue 16; no upstream equivalent — Kubernetes leaves a lost node's pods running and
 * waits for a human): the shim of a stateful container outlives its agent, so it is the part that
 * can still stop the container when the node has lost the control plane. The agent writes its
 * heartbeat file (src/apis/volumes/replicated.ts HEARTBEAT_FILE: CLOCK_MONOTONIC milliseconds of the
 * last successful node Lease renewal) and the shim reads it; older than fenceAfter means the control
 * plane may be about to run this member elsewhere, so the container must be gone first.
 *
 * CLOCK_MONOTONIC, not the file's mtime: a wall-clock step (NTP) must neither kill a healthy member
 * nor keep a lost one alive. A missing or unreadable heartbeat is stale: when in doubt, fence.
 */
#define _GNU_SOURCE
#include "fence.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *g_heartbeat;
static long long g_after_ms;

int fence_init(void) {
  const char *hb = getenv("BERTH_FENCE_HEARTBEAT");
  const char *after = getenv("BERTH_FENCE_AFTER_MS");
  if (!hb || !*hb || !after || atoll(after) <= 0) return 0;
  g_heartbeat = hb;
  g_after_ms = atoll(after);
  return 1;
}

int fence_enabled(void) {
  return g_heartbeat != NULL;
}

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fence_stale(char *why, size_t n) {
  if (!g_heartbeat) return 0;
  int fd = open(g_heartbeat, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(why, n, "heartbeat %s: %s", g_heartbeat, strerror(errno));
    return 1;
  }
  char buf[64];
  ssize_t r;
  while ((r = read(fd, buf, sizeof buf - 1)) < 0 && errno == EINTR) {}
  close(fd);
  if (r <= 0) {
    snprintf(why, n, "heartbeat %s: empty", g_heartbeat);
    return 1;
  }
  buf[r] = 0;
  char *end;
  long long beat = strtoll(buf, &end, 10);
  if (end == buf) {
    snprintf(why, n, "heartbeat %s: not a number", g_heartbeat);
    return 1;
  }
  long long age = mono_ms() - beat;
  if (age <= g_after_ms) return 0;
  snprintf(why, n, "the node's last Lease renewal was %lld ms ago (fenceAfter %lld ms)", age, g_after_ms);
  return 1;
}
