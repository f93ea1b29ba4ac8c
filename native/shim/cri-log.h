#ifndef BERTH_CRI_LOG_H
#define BERTH_CRI_LOG_H
#include <stddef.h>

/* One output pipe of the container: what was read and not yet written as whole records. */
struct stream {
  int fd; /* -1 once at EOF */
  const char *name; /* "stdout" or "stderr" */
  char *buf;
  size_t len, cap;
};

/* Opens (appends to) the log at path; rotation after max_bytes, max_files in all. 0, or -1 (errno). */
int cri_log_open(const char *path, long long max_bytes, long max_files);
void cri_log_close(void);
/* Reads what the pipe has and logs the whole records; 0 at EOF (the rest is logged, fd closed). */
int stream_pump(struct stream *s);
/* Logs the buffered records (at eof, the unterminated rest too). */
void stream_emit(struct stream *s, int eof);

#endif
