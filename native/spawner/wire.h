#ifndef BERTH_WIRE_H
#define BERTH_WIRE_H
#include <stddef.h>

struct buf {
  char *p; /* NUL-terminated while not empty */
  size_t len, cap;
};

void buf_add(struct buf *b, const char *s, size_t n);
void buf_free(struct buf *b);
/* Appends base64 of s[0..n). */
void b64_add(struct buf *out, const char *s, size_t n);
/* Decodes into a new NUL-terminated string (its length, embedded NULs counted, in *len if given). */
char *unb64(const char *s, size_t *len);
/* Splits a line at single spaces, in place, keeping empty fields; returns the count (at most max). */
int split_fields(char *line, char **f, int max);
/* Reads "count B(s)..." at f[*i] (advancing *i): a NULL-terminated array of decoded strings. */
char **read_list(char **f, int nf, int *i);
void free_list(char **l);

#endif
