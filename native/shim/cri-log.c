/*
 * The container log in the CRI format, as the kubelet reads it: `<RFC3339Nano> stdout|stderr F|P
 * <line>`, P for chunks of lines over 16 KiB, rotated by size between whole records with the naming
 * scheme of src/agent/streams/log-file.ts (rotateIfNeeded). One log per shim process.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "cri-log.h"

#define MAX_LINE 16384

static const char *g_log;
static long long g_log_max_bytes;
static long g_log_max_files;
static int g_logfd = -1;
static long long g_log_size;

static void log_open(void) {
  g_logfd = open(g_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (g_logfd < 0) {
    fprintf(stderr, "shim: reopen %s: %s\n", g_log, strerror(errno));
    return;
  }
  struct stat st;
  g_log_size = fstat(g_logfd, &st) == 0 ? st.st_size : 0;
}

static void log_append(const char *p, size_t n) {
  if (g_logfd < 0) log_open(); /* a failed reopen after a rotation: try again, else drop */
  if (g_logfd < 0) return;
  size_t off = 0;
  while (off < n) {
    ssize_t w = write(g_logfd, p + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      fprintf(stderr, "shim: write %s: %s\n", g_log, strerror(errno));
      break;
    }
    off += (size_t)w;
  }
  g_log_size += (long long)off;
}

/* Same steps as rotateIfNeeded in src/agent/streams/log-file.ts: remove rotated files numbered
 * maxFiles-1 and above, shift LOG.(k-1) -> LOG.k down to LOG -> LOG.1, then reopen LOG. */
static void log_rotate(void) {
  long keep = g_log_max_files - 1;
  if (g_logfd >= 0) close(g_logfd);
  g_logfd = -1;
  const char *slash = strrchr(g_log, '/');
  char dir[PATH_MAX];
  const char *base = slash ? slash + 1 : g_log;
  if (!slash) strcpy(dir, ".");
  else if (slash == g_log) strcpy(dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - g_log), g_log);
  size_t blen = strlen(base);
  char a[PATH_MAX + 32], b[PATH_MAX + 32];
  DIR *dh = opendir(dir);
  if (dh) {
    struct dirent *e;
    while ((e = readdir(dh))) {
      const char *n = e->d_name;
      if (strncmp(n, base, blen) != 0 || n[blen] != '.' || !n[blen + 1]) continue;
      const char *num = n + blen + 1;
      if (strspn(num, "0123456789") != strlen(num)) continue;
      if (atol(num) >= keep) {
        snprintf(a, sizeof a, "%s.%s", g_log, num);
        unlink(a);
      }
    }
    closedir(dh);
  }
  if (keep >= 1) {
    for (long k = keep - 1; k >= 1; k--) {
      snprintf(a, sizeof a, "%s.%ld", g_log, k);
      snprintf(b, sizeof b, "%s.%ld", g_log, k + 1);
      if (access(a, F_OK) == 0) rename(a, b);
    }
    snprintf(a, sizeof a, "%s.1", g_log);
    if (rename(g_log, a) != 0) fprintf(stderr, "shim: rotate %s: %s\n", g_log, strerror(errno));
  } else {
    unlink(g_log);
  }
  g_log_size = 0;
  log_open();
}

/* Appends whole records; rotates after the record that brings the file to the limit, so a file
 * never ends inside a record and is at most the limit + one record long. */
static void log_write(const char *text, size_t len) {
  size_t pos = 0;
  while (pos < len) {
    long long room = g_log_max_bytes - g_log_size;
    size_t end = len;
    if (room <= 0 || (long long)pos + room < (long long)end) {
      size_t from = pos + (room > 0 ? (size_t)room - 1 : 0);
      const char *nl = from < len ? memchr(text + from, '\n', len - from) : NULL;
      if (nl) end = (size_t)(nl - text) + 1;
    }
    log_append(text + pos, end - pos);
    pos = end;
    if (g_log_size >= g_log_max_bytes) log_rotate();
  }
}

int cri_log_open(const char *path, long long max_bytes, long max_files) {
  g_log = path;
  g_log_max_bytes = max_bytes;
  g_log_max_files = max_files;
  log_open();
  return g_logfd >= 0 ? 0 : -1;
}

void cri_log_close(void) {
  if (g_logfd >= 0) close(g_logfd);
  g_logfd = -1;
}

static void stamp(char out[64]) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm t;
  gmtime_r(&tv.tv_sec, &t);
  snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld000Z", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
           t.tm_min, t.tm_sec, (long)tv.tv_usec);
}

/* Turns the buffered output into CRI records: whole lines as F, chunks of a line over MAX_LINE as P,
 * and at EOF the unterminated rest as F. */
void stream_emit(struct stream *s, int eof) {
  char ts[64];
  stamp(ts);
  size_t tslen = strlen(ts), nlen = strlen(s->name);
  size_t records = s->len / MAX_LINE + 2; /* P chunks and the last line; each newline adds one */
  for (const char *c = s->buf, *end = s->buf + s->len; (c = memchr(c, '\n', (size_t)(end - c))); c++) records++;
  size_t cap = s->len + records * (tslen + nlen + 8);
  char *out = malloc(cap);
  if (!out) abort();
  size_t o = 0, p = 0;
  for (;;) {
    const char *nl = memchr(s->buf + p, '\n', s->len - p);
    size_t rest = s->len - p, take, skip = 0;
    char kind = 'F';
    if (nl && (size_t)(nl - (s->buf + p)) <= MAX_LINE) {
      take = (size_t)(nl - (s->buf + p));
      skip = 1; /* the newline itself */
    } else if (rest > MAX_LINE) {
      take = MAX_LINE;
      kind = 'P';
    } else if (eof && rest > 0) {
      take = rest;
    } else {
      break;
    }
    o += (size_t)sprintf(out + o, "%s %s %c ", ts, s->name, kind);
    memcpy(out + o, s->buf + p, take);
    o += take;
    out[o++] = '\n';
    p += take + skip;
  }
  if (p > 0) {
    memmove(s->buf, s->buf + p, s->len - p);
    s->len -= p;
  }
  if (o) log_write(out, o);
  free(out);
}

/* Reads what is there; returns 0 at EOF (or error), 1 otherwise. */
int stream_pump(struct stream *s) {
  if (s->cap - s->len < 65536) {
    s->cap = s->len + 65536 * 2;
    s->buf = realloc(s->buf, s->cap);
    if (!s->buf) abort();
  }
  ssize_t r = read(s->fd, s->buf + s->len, 65536);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (r <= 0) {
    stream_emit(s, 1);
    close(s->fd);
    s->fd = -1;
    return 0;
  }
  s->len += (size_t)r;
  stream_emit(s, 0);
  return 1;
}
