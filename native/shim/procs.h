#ifndef BERTH_PROCS_H
#define BERTH_PROCS_H
#include <sys/types.h>

/* 1 once the process has a child (tini has forked the command), 0 before, -1 where unknown. */
int has_child(long pid);
/* A pid listed in `file` whose parent is `parent` (runc's pid file names the container's init), or 0. */
long find_init(const char *file, long parent);
/* The first pid in `file` other than `not` (runc's pid file after `runc create`), or 0. */
long pid_in_file(const char *file, long not);
/* Reaps children; 1 once `target` is reaped (its status in *status). block: wait for it. */
int reap_target(pid_t target, int *status, int block);
/* Sleeps *delay seconds, then doubles it up to 4 ms. */
void nap(double *delay);

#endif
