#ifndef BERTH_REPLY_H
#define BERTH_REPLY_H
#include <stddef.h>

/* The helper's answers to the agent, buffered until reply_flush (one line each; see spawner.c). */
void reply_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Appends base64 of s[0..n) to the line being built. */
void reply_b64(const char *s, size_t n);
/* F id B(msg): the request could not be carried out. */
void reply_fail(long id, const char *msg);
/* X id e 0 "" B(strerror(e)): a system call's outcome (e = 0: success). */
void reply_errno(long id, int e);
/* Writes what is buffered to stdout; exits when the agent is gone. */
void reply_flush(void);

#endif
