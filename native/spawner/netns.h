#ifndef BERTH_NETNS_H
#define BERTH_NETNS_H
#include <stddef.h>
#include <sys/types.h>

/* Starts pinning a new network namespace (with lo up when lo) at path: the fork's pid and the read
 * end of its error pipe in *err_fd; or -1 with the reason in msg. */
pid_t netns_add_start(const char *path, int lo, int *err_fd, char *msg, size_t msglen);

#endif
