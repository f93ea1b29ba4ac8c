#ifndef BERTH_TTY_H
#define BERTH_TTY_H
#include <stddef.h>

/* A pseudo-terminal for the container (80x24): its master fd, the slave's path in `slave`; -1 (errno). */
int tty_open(char *slave, size_t n);
/* In the container's first process: a session of its own with `slave` as its controlling terminal on
 * 0, 1 and 2; dies (exit 125, message on stderr) on failure. */
void tty_attach(const char *slave);
/* What the stdin FIFO has, typed into the terminal. */
void tty_type(int in_fd, int master);
/* Applies the "COLS ROWS" lines the resize FIFO has (the kernel sends SIGWINCH to the foreground group). */
void tty_resize(int rz_fd, int master);

#endif
