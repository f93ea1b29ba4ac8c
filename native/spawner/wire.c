/*
 * The spawn helper's wire format: growable buffers, base64 (every string field is base64, so a
 * line never holds a space or a newline of its own) and the fields of one request line.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "wire.h"

void buf_add(struct buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) abort();
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

void buf_free(struct buf *b) {
  free(b->p);
  *b = (struct buf){0};
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_add(struct buf *out, const char *s, size_t n) {
  char q[4];
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned char)s[i] << 16;
    if (i + 1 < n) v |= (unsigned char)s[i + 1] << 8;
    if (i + 2 < n) v |= (unsigned char)s[i + 2];
    q[0] = B64[(v >> 18) & 63];
    q[1] = B64[(v >> 12) & 63];
    q[2] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
    q[3] = i + 2 < n ? B64[v & 63] : '=';
    buf_add(out, q, 4);
  }
}

/* Decodes into a new NUL-terminated string (embedded NULs are kept in *len). */
char *unb64(const char *s, size_t *len) {
  size_t n = strlen(s);
  char *out = malloc(n / 4 * 3 + 4);
  if (!out) abort();
  size_t o = 0;
  unsigned v = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    const char *c = strchr(B64, s[i]);
    if (s[i] == '=' || !c || !s[i]) continue;
    v = (v << 6) | (unsigned)(c - B64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (char)((v >> bits) & 0xff);
    }
  }
  out[o] = 0;
  if (len) *len = o;
  return out;
}

/* Splits a request line into fields at single spaces, in place; empty fields (an empty base64
 * string) are kept. */
int split_fields(char *line, char **f, int max) {
  int n = 0;
  char *p = line;
  while (n < max) {
    f[n++] = p;
    char *sp = strchr(p, ' ');
    if (!sp) break;
    *sp = 0;
    p = sp + 1;
  }
  return n;
}

/* Reads "count B..." at f[*i]; returns a NULL-terminated array of decoded strings. */
char **read_list(char **f, int nf, int *i) {
  long count = *i < nf ? atol(f[(*i)++]) : 0;
  if (count < 0 || count > nf - *i) count = 0;
  char **out = calloc((size_t)count + 1, sizeof *out);
  for (long k = 0; k < count; k++) out[k] = unb64(f[(*i)++], NULL);
  return out;
}

void free_list(char **l) {
  for (char **p = l; p && *p; p++) free(*p);
  free(l);
}
