#ifndef BERTH_CONTAINER_SETUP_H
#define BERTH_CONTAINER_SETUP_H

/* In the container's first process: writes "berth: MESSAGE" to its stderr and exits with code. */
void child_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* argv = HOSTNAME WORKDIR NETNS N (SRC DST ro|rw)xN EXEC...: sets the process up (dies with a message
 * on any failure) and returns EXEC... */
char **native_setup(int argc, char **argv);

#endif
