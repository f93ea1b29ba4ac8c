/*
 * berth-spawner: the agent's spawn helper. It starts the agent's short commands (ip, CNI plugins,
 * nft) and the container shims, makes the system calls Node has none for (mount, whiteouts:
 * syscalls.c; network namespaces: netns.c), and connects to ports inside pod network namespaces
 * for port-forward (dial.c), so the agent's Node process never forks itself: libuv's fork of a
 * large Node process blocks its event loop until the child has exec'd and copies its page tables
 * (~5-20 ms per command on a small VM, several commands per pod). Here every child is started with
 * posix_spawn (vfork semantics: no page is copied).
 *
 * Protocol: one line per message, fields separated by one space, strings base64-encoded (B).
 *   agent -> helper
 *     C id B(file) B(input) nenv B(k=v)... nargs B(arg)...   run a command, stdio pipes, input on stdin
 *     H id B(shim) B(shimLog) nenv B(k=v)... nargs B(arg)... start a shim: its own session, stdin and
 *                                                            stdout /dev/null, stderr appended to
 *                                                            shimLog, fd 3 its ready pipe
 *     K id signo                                             signal the child of request id
 *     M id B(source) B(target) B(fstype) B(data)             mount(2) here (overlay rootfs)
 *     U id B(target) flags                                   umount2(2) here
 *     W id B(path)                                           an overlayfs whiteout at path (char device 0/0)
 *     O id B(dir)                                            dir opaque for overlayfs (trusted.overlay.opaque=y)
 *     N id B(path) lo                                        `ip netns add` (+ `lo` up when lo is 1): a new
 *                                                            network namespace pinned at path; X when done
 *     D id B(netnsPath) port                                 a TCP connection to localhost:port in that namespace
 *   helper -> agent
 *     P id pid                        started
 *     R id chainPid initPid           a shim's ready line
 *     F id B(message)                 the command could not be started (never ran); D: no connection, why
 *     X id code signo B(stdout) B(stderr)   exited (code -1 when killed by a signal); for M, U, W, O:
 *                                     code 0, or the errno with the message as stderr
 *   on the IPC channel (NODE_CHANNEL_FD, ipc.c): D's connected socket, as a net.Socket with {"berthDial": id}
 * The helper exits when its stdin closes (the agent is gone); shims keep running (own session).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dial.h"
#include "ipc.h"
#include "netns.h"
#include "reply.h"
#include "syscalls.h"
#include "wire.h"


/* ---- requests ---- */

enum { FD_OUT, FD_ERR, FD_READY, NFD };

struct req {
  long id;
  char kind; /* 'C' or 'H' */
  pid_t pid;
  int reaped, status;
  int fd[NFD];     /* read ends still open, -1 when closed */
  struct buf data[NFD];
  int in_fd;       /* a command's stdin, while its input is being written */
  char *input;
  size_t input_len, input_off;
  struct req *next;
};

static struct req *reqs;
static int sigpipe_fd[2];
static int ipc = -1;

static void close_fd(struct req *r, int i) {
  if (r->fd[i] >= 0) close(r->fd[i]);
  r->fd[i] = -1;
}


static void spawn_attrs(posix_spawnattr_t *at, int setsid) {
  posix_spawnattr_init(at);
  sigset_t def, none;
  sigfillset(&def); /* every signal back to its default: nothing this helper ignores leaks */
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(at, &def);
  posix_spawnattr_setsigmask(at, &none);
  posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (setsid ? POSIX_SPAWN_SETSID : 0));
}

static struct req *new_req(long id, char kind) {
  struct req *r = calloc(1, sizeof *r);
  r->id = id;
  r->kind = kind;
  r->in_fd = -1;
  for (int i = 0; i < NFD; i++) r->fd[i] = -1;
  r->next = reqs;
  reqs = r;
  return r;
}

static void start_command(long id, char **f, int nf) {
  int i = 0;
  if (nf < 2) { reply_fail(id, "bad request"); return; }
  char *file = unb64(f[i++], NULL);
  size_t input_len;
  char *input = unb64(f[i++], &input_len);
  char **env = read_list(f, nf, &i);
  char **args = read_list(f, nf, &i);
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    reply_fail(id, strerror(errno));
    free(file); free(input); free_list(env); free_list(args);
    return;
  }
  /* argv[0] is the file itself, as the agent's Node fallback runs it. */
  size_t nargs = 0;
  while (args[nargs]) nargs++;
  char **argv = calloc(nargs + 2, sizeof *argv);
  argv[0] = file;
  for (size_t k = 0; k < nargs; k++) argv[k + 1] = args[k];
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawnattr_t at;
  spawn_attrs(&at, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, file, &fa, &at, argv, env);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(in[0]); close(out[1]); close(err[1]);
  if (rc != 0) {
    reply_fail(id, strerror(rc));
    close(in[1]); close(out[0]); close(err[0]);
    free(input);
  } else {
    struct req *r = new_req(id, 'C');
    r->pid = pid;
    r->fd[FD_OUT] = out[0];
    r->fd[FD_ERR] = err[0];
    reply_line("P %ld %ld\n", id, (long)pid);
    if (input_len > 0) {
      fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
      r->in_fd = in[1];
      r->input = input;
      r->input_len = input_len;
    } else {
      close(in[1]);
      free(input);
    }
  }
  free(argv);
  free(file);
  free_list(env);
  free_list(args);
}

static void start_shim(long id, char **f, int nf) {
  int i = 0;
  if (nf < 2) { reply_fail(id, "bad request"); return; }
  char *shim = unb64(f[i++], NULL);
  char *log = unb64(f[i++], NULL);
  char **env = read_list(f, nf, &i);
  char **args = read_list(f, nf, &i);
  size_t nargs = 0;
  while (args[nargs]) nargs++;
  char **argv = calloc(nargs + 2, sizeof *argv);
  argv[0] = shim;
  for (size_t k = 0; k < nargs; k++) argv[k + 1] = args[k];
  int ready[2];
  if (pipe2(ready, O_CLOEXEC)) {
    reply_fail(id, strerror(errno));
  } else {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_APPEND | O_CREAT, 0644);
    posix_spawn_file_actions_adddup2(&fa, ready[1], 3);
    posix_spawnattr_t at;
    spawn_attrs(&at, 1); /* own session: it outlives this helper and the agent */
    pid_t pid;
    int rc = posix_spawn(&pid, shim, &fa, &at, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(ready[1]);
    if (rc != 0) {
      char msg[4200];
      snprintf(msg, sizeof msg, "%s: %s", shim, strerror(rc));
      reply_fail(id, msg);
      close(ready[0]);
    } else {
      struct req *r = new_req(id, 'H');
      r->pid = pid;
      r->fd[FD_READY] = ready[0];
      reply_line("P %ld %ld\n", id, (long)pid);
    }
  }
  free(argv);
  free(shim);
  free(log);
  free_list(env);
  free_list(args);
}

/* N: see netns.c. */
static void netns_add(long id, char **f, int nf) {
  if (nf < 2) { reply_fail(id, "bad request"); return; }
  char *path = unb64(f[0], NULL);
  char msg[4300];
  int err_fd;
  pid_t pid = netns_add_start(path, atoi(f[1]), &err_fd, msg, sizeof msg);
  free(path);
  if (pid < 0) { reply_fail(id, msg); return; }
  struct req *r = new_req(id, 'C');
  r->pid = pid;
  r->fd[FD_ERR] = err_fd;
  reply_line("P %ld %ld\n", id, (long)pid);
}

static void handle_request(char *line) {
  size_t max = strlen(line) + 2; /* at most one field per byte, plus one */
  char **f = malloc(max * sizeof *f);
  int nf = split_fields(line, f, (int)max);
  if (nf >= 2) {
    char op = f[0][0];
    long id = atol(f[1]);
    if (op == 'C') start_command(id, f + 2, nf - 2);
    else if (op == 'H') start_shim(id, f + 2, nf - 2);
    else if (op == 'M' || op == 'U' || op == 'W' || op == 'O') syscall_request(op, id, f + 2, nf - 2);
    else if (op == 'N') netns_add(id, f + 2, nf - 2);
    else if (op == 'D') dial_request(id, f + 2, nf - 2, ipc);
    else if (op == 'K' && nf >= 3) {
      for (struct req *r = reqs; r; r = r->next)
        if (r->id == id && !r->reaped) kill(r->pid, atoi(f[2]));
    }
  }
  free(f);
}

static void reap(void) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    for (struct req *r = reqs; r; r = r->next) {
      if (r->pid == pid && !r->reaped) {
        r->reaped = 1;
        r->status = st;
        break;
      }
    }
  }
}

/* A request is done when its child is reaped and its pipes are drained. */
static void finish_done(void) {
  for (struct req **pp = &reqs; *pp;) {
    struct req *r = *pp;
    int open_fds = r->fd[FD_OUT] >= 0 || r->fd[FD_ERR] >= 0 || r->fd[FD_READY] >= 0;
    if (!r->reaped || open_fds) { pp = &r->next; continue; }
    int sig = WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0;
    reply_line("X %ld %d %d ", r->id, sig ? -1 : WEXITSTATUS(r->status), sig);
    reply_b64(r->data[FD_OUT].p ? r->data[FD_OUT].p : "", r->data[FD_OUT].len);
    reply_line(" ");
    reply_b64(r->data[FD_ERR].p ? r->data[FD_ERR].p : "", r->data[FD_ERR].len);
    reply_line("\n");
    if (r->in_fd >= 0) close(r->in_fd);
    free(r->input);
    for (int i = 0; i < NFD; i++) buf_free(&r->data[i]);
    *pp = r->next;
    free(r);
  }
}

static void on_sigchld(int sig) {
  (void)sig;
  int saved = errno;
  ssize_t w = write(sigpipe_fd[1], "c", 1);
  (void)w;
  errno = saved;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  if (pipe2(sigpipe_fd, O_CLOEXEC | O_NONBLOCK)) return 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigchld;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);
  ipc = ipc_open();
  char why[300];
  if (dial_init(why, sizeof why) != 0) fprintf(stderr, "berth-spawner: no port-forward dials: %s\n", why);
  struct buf in = {0};
  int stdin_open = 1;
  struct pollfd *pf = NULL;
  struct { struct req *r; int which; } *who = NULL;
  size_t pcap = 0;
  for (;;) {
    reap();
    finish_done();
    reply_flush();
    if (!stdin_open) return 0;
    size_t n = 0, need = 3;
    for (struct req *r = reqs; r; r = r->next) need += NFD + 1;
    need += dial_count();
    if (need > pcap) {
      pcap = need * 2;
      pf = realloc(pf, pcap * sizeof *pf);
      who = realloc(who, pcap * sizeof *who);
    }
    pf[n] = (struct pollfd){0, POLLIN, 0}; who[n++].r = NULL;
    pf[n] = (struct pollfd){sigpipe_fd[0], POLLIN, 0}; who[n++].r = NULL;
    pf[n] = (struct pollfd){ipc, POLLIN, 0}; who[n++].r = NULL; /* -1 when there is none: poll skips it */
    int timeout = -1;
    size_t first_dial = n;
    n += dial_pollfds(pf + n, &timeout);
    size_t first_req = n;
    for (struct req *r = reqs; r; r = r->next) {
      for (int i = 0; i < NFD; i++) {
        if (r->fd[i] < 0) continue;
        pf[n] = (struct pollfd){r->fd[i], POLLIN, 0};
        who[n].r = r; who[n++].which = i;
      }
      if (r->in_fd >= 0) {
        pf[n] = (struct pollfd){r->in_fd, POLLOUT, 0};
        who[n].r = r; who[n++].which = -1;
      }
    }
    int ready = poll(pf, n, timeout);
    if (ready < 0) { if (errno == EINTR) continue; return 1; }
    if (pf[1].revents) {
      char d[64];
      while (read(sigpipe_fd[0], d, sizeof d) > 0) {}
    }
    if (pf[2].revents && !ipc_drain(ipc)) { close(ipc); ipc = -1; }
    if (first_req > first_dial) dial_after_poll(pf + first_dial, first_req - first_dial);
    for (size_t k = first_req; k < n; k++) {
      if (!pf[k].revents) continue;
      struct req *r = who[k].r;
      if (who[k].which < 0) {
        ssize_t w = write(r->in_fd, r->input + r->input_off, r->input_len - r->input_off);
        if (w > 0) r->input_off += (size_t)w;
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || r->input_off >= r->input_len) {
          close(r->in_fd); /* done, or the child does not read its stdin */
          r->in_fd = -1;
        }
        continue;
      }
      int i = who[k].which;
      char chunk[65536];
      ssize_t got = read(r->fd[i], chunk, sizeof chunk);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) { close_fd(r, i); continue; }
      buf_add(&r->data[i], chunk, (size_t)got);
      if (i == FD_READY) {
        long chain, init;
        if (strchr(r->data[i].p, '\n') && sscanf(r->data[i].p, "%ld %ld", &chain, &init) == 2) {
          reply_line("R %ld %ld %ld\n", r->id, chain, init);
          close_fd(r, i);
        }
      }
    }
    if (pf[0].revents) {
      char chunk[65536];
      ssize_t got = read(0, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) { stdin_open = 0; continue; }
      buf_add(&in, chunk, (size_t)got);
      char *start = in.p, *nl;
      while ((nl = memchr(start, '\n', in.len - (size_t)(start - in.p)))) {
        *nl = 0;
        handle_request(start);
        start = nl + 1;
      }
      size_t rest = in.len - (size_t)(start - in.p);
      memmove(in.p, start, rest);
      in.len = rest;
      in.p[rest] = 0;
    }
  }
}
