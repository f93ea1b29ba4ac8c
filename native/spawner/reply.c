/* The helper → agent half of the line protocol (spawner.c): lines buffered, then written at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "reply.h"
#include "wire.h"

static struct buf out;

void reply_line(const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) buf_add(&out, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void reply_b64(const char *s, size_t n) {
  b64_add(&out, s, n);
}

void reply_fail(long id, const char *msg) {
  reply_line("F %ld ", id);
  b64_add(&out, msg, strlen(msg));
  buf_add(&out, "\n", 1);
}

void reply_errno(long id, int e) {
  if (e == 0) { reply_line("X %ld 0 0  \n", id); return; }
  const char *msg = strerror(e);
  reply_line("X %ld %d 0  ", id, e);
  b64_add(&out, msg, strlen(msg));
  buf_add(&out, "\n", 1);
}

void reply_flush(void) {
  size_t off = 0;
  while (off < out.len) {
    ssize_t w = write(1, out.p + off, out.len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) exit(0); /* the agent is gone */
    off += (size_t)w;
  }
  out.len = 0;
}
