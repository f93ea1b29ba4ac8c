#ifndef BERTH_DIAL_H
#define BERTH_DIAL_H
#include <poll.h>
#include <stddef.h>

/* Saves the helper's own network namespace (to come back to after each setns); 0, or -1 and why. */
int dial_init(char *msg, size_t msglen);
/* D id B(netnsPath) port: connects to localhost:port inside that namespace; the socket goes to the
 * agent over the IPC channel `ipc` (F when there is none, or no connection) — now, or from
 * dial_after_poll once the connect has finished. */
void dial_request(long id, char **f, int nf, int ipc);
/* How many dials are connecting (each needs one pollfd). */
size_t dial_count(void);
/* Fills pf with the connecting sockets (POLLOUT) and lowers *timeout_ms (-1: none) to the nearest
 * deadline; returns how many it filled. */
size_t dial_pollfds(struct pollfd *pf, int *timeout_ms);
/* After poll: advances the dials of pf[0..n) that are ready or past their deadline. */
void dial_after_poll(const struct pollfd *pf, size_t n);

#endif
