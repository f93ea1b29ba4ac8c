#ifndef BERTH_FENCE_H
#define BERTH_FENCE_H
#include <stddef.h>

/* Reads BERTH_FENCE_HEARTBEAT and BERTH_FENCE_AFTER_MS; 1 when this container self-fences. */
int fence_init(void);
/* 1 when self-fencing is on. */
int fence_enabled(void);
/* 1 when the heartbeat is older than fenceAfter (or missing, or unreadable); `why` says how old. */
int fence_stale(char *why, size_t n);

#endif
