#ifndef BERTH_SYSCALLS_H
#define BERTH_SYSCALLS_H

/* Request op (M, U, W or O) with its fields f[0..nf): runs the system call and answers X (or F). */
void syscall_request(char op, long id, char **f, int nf);

#endif
