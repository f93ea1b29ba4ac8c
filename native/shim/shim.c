/*
 * berth-shim: the parent of one container, like containerd's shim or conmon. Both runtimes use it.
 * Started detached (own session) by the agent, so it outlives agent restarts. It
 *   1. forks the container's first process, which joins the cgroup BEFORE it execs anything;
 *   2. reports "<chainPid> <initPid>\n" on fd 3 and closes it (the agent waits for this line);
 *   3. owns the container's stdout/stderr pipes and appends them to the log file in the CRI format
 *      (`<RFC3339Nano> stdout|stderr F|P <line>`; P for chunks of lines over 16 KiB);
 *   4. rotates the log file by size between whole records, with the naming scheme of
 *      src/agent/streams/log-file.ts (rotateIfNeeded): LOG.(k-1) -> LOG.k ... LOG -> LOG.1, none
 *      past LOG.(maxFiles-1), then a fresh LOG;
 *   5. reaps the process and writes STATE_DIR/exit (JSON) atomically, after the logs are drained.
 *
 * Usage: berth-shim STATE_DIR LOG_PATH N PROCS_FILE... CMD ARG...
 *   The container's environment is STATE_DIR/env (NUL-separated k=v).
 *   CMD = berth-native-chain HOSTNAME WORKDIR NETNS N (SRC DST ro|rw)xN EXEC... (the process
 *   runtime): the shim unshares the pid namespace and forks the container's pid 1 itself, which
 *   joins the pod's network namespace, unshares mount and UTS namespaces, mounts /proc, sets the
 *   hostname, bind-mounts the volumes, changes directory and execs EXEC (tini → the command).
 *   Any other CMD (the runc runtime: `runc run …`) is exec'd as is; PROCS_FILE is then runc's pid
 *   file, and the init is the pid in it whose parent is CMD. With BERTH_RUNC_CREATE=1, CMD is
 *   `runc create …`: the shim (a subreaper) waits for it, reports the pid in PROCS_FILE, and from then
 *   on waits for that init, which runs the container's process once the agent has run `runc start`.
 * Env: BERTH_LOG_MAX_BYTES (default 10 MiB), BERTH_LOG_MAX_FILES (default 5, current included),
 *   BERTH_FENCE_HEARTBEAT=PATH + BERTH_FENCE_AFTER_MS=N (a stateful container self-fences: it is not
 *   started, or is killed with SIGKILL, once the agent's heartbeat is older than N ms; see fence.c),
 *   BERTH_STDIN_FIFO=PATH (stdin: true — the command reads this FIFO, held open read-write so that
 *   it never sees EOF), BERTH_STDIN_ONCE=1 (stdinOnce — the command opens it read-only, and the shim
 *   holds a write end until SIGUSR1, sent once the first attach has opened its own).
 *
 * C, not a script: a shim per container is forked and exec'd on every pod start, and a small static
 * binary costs ~1 ms of CPU there where an interpreted shim cost ~30 ms (its interpreter's pages
 * copied on write after each fork).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "container-setup.h"
#include "cri-log.h"
#include "fence.h"
#include "procs.h"
#include "tty.h"

#define NATIVE "berth-native-chain"

extern char **environ;

static volatile sig_atomic_t g_stdin_hold = -1;
static int g_sigpipe[2] = {-1, -1};

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("shim: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static long long now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

/* ---- small helpers of the parent ---- */

static void on_signal(int sig) {
  if (sig == SIGUSR1) {
    int fd = g_stdin_hold;
    g_stdin_hold = -1;
    if (fd >= 0) close(fd);
    return;
  }
  int saved = errno;
  ssize_t w = write(g_sigpipe[1], "c", 1);
  (void)w;
  errno = saved;
}

static char **read_env(const char *dir) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/env", dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("%s: %s", path, strerror(errno));
  size_t cap = 4096, len = 0;
  char *raw = malloc(cap + 1);
  for (;;) {
    if (cap - len < 4096) raw = realloc(raw, (cap *= 2) + 1);
    if (!raw) die("out of memory");
    ssize_t r = read(fd, raw + len, cap - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(fd);
  raw[len] = 0;
  size_t count = 0;
  for (size_t i = 0; i <= len; i++) if (i == len || raw[i] == 0) count++;
  char **env = calloc(count + 1, sizeof *env);
  size_t k = 0;
  for (size_t i = 0; i < len;) {
    char *kv = raw + i;
    size_t l = strlen(kv);
    if (l > 0 && kv[0] != '=' && strchr(kv, '=')) env[k++] = kv;
    i += l + 1;
  }
  env[k] = NULL;
  return env;
}

/* Keeps the process title short: /proc/PID/cmdline shows "berth-shim STATE_DIR LOG_PATH", not the
 * container's command (which tools looking for that command would otherwise find twice). */
static void set_title(int argc, char **argv, const char *dir, const char *log) {
  char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]);
  size_t room = (size_t)(end - start);
  memset(start, 0, room);
  snprintf(start, room, "berth-shim %s %s", dir, log);
  prctl(PR_SET_NAME, "berth-shim");
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fputs("usage: berth-shim STATE_DIR LOG_PATH N PROCS_FILE... CMD ARG...\n", stderr);
    return 2;
  }
  /* Everything is copied before the title overwrites the argv strings. */
  char **args = calloc((size_t)argc + 1, sizeof *args);
  for (int i = 0; i < argc; i++) args[i] = strdup(argv[i]);
  const char *dir = args[1];
  const char *log = args[2];
  long nprocs = atol(args[3]);
  if (nprocs < 0 || 4 + nprocs >= argc) die("bad arguments");
  char **procs = args + 4;
  char **cmd = args + 4 + nprocs;
  int cmdc = argc - 4 - (int)nprocs;
  set_title(argc, argv, dir, log);

  const char *e;
  long long log_max_bytes = 10LL * 1024 * 1024;
  long log_max_files = 5;
  if ((e = getenv("BERTH_LOG_MAX_BYTES")) && atoll(e) > 0) log_max_bytes = atoll(e);
  if ((e = getenv("BERTH_LOG_MAX_FILES")) && atol(e) > 0) log_max_files = atol(e);
  const char *stdin_fifo = getenv("BERTH_STDIN_FIFO");
  int has_fifo = stdin_fifo && *stdin_fifo;
  int stdin_once = has_fifo && (e = getenv("BERTH_STDIN_ONCE")) && !strcmp(e, "1");
  int native = !strcmp(cmd[0], NATIVE);
  /* BERTH_RUNC_CREATE=1: CMD is `runc create …` (PROCS_FILE its pid file). The shim is a subreaper,
   * so once runc create has exited the container's init is its child: it waits for that. The
   * container's process runs from `runc start`, which the agent runs once the pod's network is up. */
  int create = (e = getenv("BERTH_RUNC_CREATE")) && !strcmp(e, "1") && nprocs > 0 && !native;
  if (create && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) die("prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
  /* BERTH_TTY=1 (the process runtime's `tty: true`): the container's stdio is a pseudo-terminal whose
   * master the shim holds: output to the log as stdout, the stdin FIFO's bytes typed into it, and
   * "COLS ROWS" lines on BERTH_RESIZE_FIFO set its size (kubectl attach -t resizes). */
  int tty = (e = getenv("BERTH_TTY")) && !strcmp(e, "1");
  int master = -1;
  char slave[64] = "";
  if (tty && (master = tty_open(slave, sizeof slave)) < 0) die("pseudo-terminal: %s", strerror(errno));

  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  /* fd 3 carries the ready line to the agent; the container must not inherit it. */
  int ready_fd = fcntl(3, F_GETFD) >= 0 ? 3 : -1;
  if (ready_fd >= 0) fcntl(ready_fd, F_SETFD, FD_CLOEXEC);

  /* A stateful container never starts on a node that has lost the control plane for fenceAfter. */
  char fence_why[160];
  if (fence_init() && fence_stale(fence_why, sizeof fence_why)) die("fenced, not starting the container: %s", fence_why);
  char **env = read_env(dir);
  if (cri_log_open(log, log_max_bytes, log_max_files) != 0) die("log %s: %s", log, strerror(errno));
  int out[2], err[2], notify[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(g_sigpipe, O_CLOEXEC | O_NONBLOCK)) die("pipe: %s", strerror(errno));
  if (native) {
    /* The first process tells the shim when its setup is done (one byte; close-on-exec, so an exec
     * failure is EOF too), and the shim forks it into a new pid namespace: it is the container's pid 1. */
    if (pipe2(notify, O_CLOEXEC)) die("pipe: %s", strerror(errno));
    if (unshare(CLONE_NEWPID) != 0) die("unshare(CLONE_NEWPID): %s", strerror(errno));
  }

  if (has_fifo) {
    if (mkfifo(stdin_fifo, 0600) != 0 && errno != EEXIST) die("mkfifo %s: %s", stdin_fifo, strerror(errno));
    if (stdin_once) {
      g_stdin_hold = open(stdin_fifo, O_RDWR | O_CLOEXEC);
      if (g_stdin_hold < 0) die("%s: %s", stdin_fifo, strerror(errno));
    }
  }
  /* With a terminal the shim reads the stdin FIFO itself, and the resize FIFO exists before the
   * ready line (a resize right after start is not lost). Both close-on-exec. */
  int in_fd = -1, rz_fd = -1;
  if (tty) {
    if (has_fifo) in_fd = open(stdin_fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    const char *rz = getenv("BERTH_RESIZE_FIFO");
    if (rz && *rz && (mkfifo(rz, 0600) == 0 || errno == EEXIST)) rz_fd = open(rz, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);

  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    /* The container gets default signal dispositions, whatever the shim ignores or handles (an
     * ignored signal stays ignored across exec), and an empty signal mask. */
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (g_stdin_hold >= 0) close(g_stdin_hold);
    if (tty) {
      tty_attach(slave);
    } else {
      int in = has_fifo ? open(stdin_fifo, stdin_once ? O_RDONLY : O_RDWR) : open("/dev/null", O_RDONLY);
      if (in < 0) child_fail(125, "stdin %s: %s", has_fifo ? stdin_fifo : "/dev/null", strerror(errno));
      if (dup2(in, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) _exit(125);
      if (in > 2) close(in);
    }
    /* Join the cgroup first: everything exec'd from here on is limited and accounted. */
    char mypid[32];
    int ml = snprintf(mypid, sizeof mypid, "%ld\n", (long)getpid());
    for (long i = 0; i < nprocs; i++) {
      int fd = open(procs[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || write(fd, mypid, (size_t)ml) != ml || close(fd) != 0) child_fail(125, "cannot join cgroup %s: %s", procs[i], strerror(errno));
    }
    char **run = cmd;
    if (native) {
      run = native_setup(cmdc - 1, cmd + 1);
      if (!run[0]) child_fail(125, "native chain: no command");
      ssize_t w = write(notify[1], "x", 1); /* setup done: tell the shim (the command never sees it) */
      (void)w;
    }
    environ = env;
    execvp(run[0], run);
    child_fail(127, "exec %s: %s", run[0], strerror(errno));
  }
  close(out[1]);
  close(err[1]);

  long init = 0;
  int status = 0, reaped = 0;
  pid_t target = pid; /* the process whose end is the container's */
  double delay = 0.00025, deadline = now_s() + 2;
  if (create) {
    /* runc create returns once the container exists; its init then waits for `runc start`. */
    int st = 255 << 8;
    reap_target(pid, &st, 1);
    init = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? pid_in_file(procs[0], pid) : 0;
    if (init) {
      target = (pid_t)init;
    } else {
      status = st; /* runc's own error is in its --log */
      reaped = 1;
    }
  } else if (native) {
    close(notify[1]);
    char byte;
    ssize_t r;
    while ((r = read(notify[0], &byte, 1)) < 0 && errno == EINTR) {}
    close(notify[0]);
    if (r == 1) {
      init = pid;
      /* pid 1 now execs [setpriv →] tini; report once tini has forked the command, so the container
       * is never reported before its process exists (bounded; skipped where there is no children file). */
      while (now_s() < deadline) {
        if (has_child(init) != 0) break;
        if (reap_target(pid, &status, 0)) { reaped = 1; break; }
        nap(&delay);
      }
    } else {
      /* It ended before its setup was done: report no init. */
      if (reap_target(pid, &status, 1)) reaped = 1;
    }
  } else {
    while (nprocs > 0 && now_s() < deadline) {
      if ((init = find_init(procs[0], pid))) break;
      if (reap_target(pid, &status, 0)) { reaped = 1; break; }
      nap(&delay);
    }
  }
  if (ready_fd >= 0) {
    char line[64];
    int n = snprintf(line, sizeof line, "%ld %ld\n", (long)pid, init);
    write_all(ready_fd, line, (size_t)n);
    close(ready_fd);
  }

  struct stream streams[2] = {{out[0], "stdout", NULL, 0, 0}, {err[0], "stderr", NULL, 0, 0}};
  if (tty) {
    /* One stream, the terminal's; the pipes are unused (their write ends are closed: EOF at once). */
    close(out[0]);
    close(err[0]);
    streams[0].fd = master;
    streams[1].fd = -1;
  }
  double reaped_at = reaped ? now_s() : 0;
  int fenced = 0;
  for (;;) {
    struct pollfd pf[5];
    int n = 0;
    for (int i = 0; i < 2; i++) if (streams[i].fd >= 0) pf[n++] = (struct pollfd){streams[i].fd, POLLIN, 0};
    if (n == 0) break;
    pf[n++] = (struct pollfd){g_sigpipe[0], POLLIN, 0};
    if (in_fd >= 0) pf[n++] = (struct pollfd){in_fd, POLLIN, 0};
    if (rz_fd >= 0) pf[n++] = (struct pollfd){rz_fd, POLLIN, 0};
    /* Once the process is reaped, writers that escaped the pid namespace must not hold the exit
     * report back for long. */
    if (reaped && now_s() - reaped_at > 2) break;
    /* Self-fencing reads the heartbeat every 250 ms: the kill comes within fenceAfter + 0.25 s. */
    int r = poll(pf, (nfds_t)n, reaped ? 200 : fence_enabled() ? 250 : 2000);
    if (r < 0 && errno != EINTR) break;
    for (int j = 0; r > 0 && j < n; j++) {
      if (!pf[j].revents) continue;
      if (pf[j].fd == in_fd) { tty_type(in_fd, master); continue; }
      if (pf[j].fd == rz_fd) { tty_resize(rz_fd, master); continue; }
      if (pf[j].fd == g_sigpipe[0]) {
        char drain[64];
        while (read(g_sigpipe[0], drain, sizeof drain) > 0) {}
        continue;
      }
      for (int i = 0; i < 2; i++) if (streams[i].fd == pf[j].fd) stream_pump(&streams[i]);
    }
    if (!reaped && !fenced && fence_enabled() && fence_stale(fence_why, sizeof fence_why)) {
      /* The container's init is pid 1 of its pid namespace: SIGKILL to it ends every process in it. */
      if (init > 0) kill((pid_t)init, SIGKILL);
      if (target != (pid_t)init) kill(target, SIGKILL);
      fenced = 1;
      fprintf(stderr, "shim: fenced at %lld (unix ms): %s; container killed\n", now_ms(), fence_why);
    }
    if (!reaped && reap_target(target, &status, 0)) {
      reaped = 1;
      reaped_at = now_s();
    }
  }
  if (!reaped && !reap_target(target, &status, 1)) status = 255 << 8;
  for (int i = 0; i < 2; i++) {
    if (streams[i].fd >= 0) {
      stream_emit(&streams[i], 1);
      close(streams[i].fd);
    }
  }
  cri_log_close();

  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  int code = sig ? 128 + sig : WEXITSTATUS(status);
  char json[256], tmp[PATH_MAX], final[PATH_MAX];
  int jl = snprintf(json, sizeof json, "{\"exitCode\":%d,\"signal\":%d,\"finishedAtMs\":%lld,\"initPid\":%ld,\"fenced\":%s}", code, sig, now_ms(), init, fenced ? "true" : "false");
  snprintf(tmp, sizeof tmp, "%s/exit.tmp", dir);
  snprintf(final, sizeof final, "%s/exit", dir);
  int xf = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (xf < 0) die("exit: %s", strerror(errno));
  write_all(xf, json, (size_t)jl);
  close(xf);
  if (rename(tmp, final) != 0) die("rename: %s", strerror(errno));
  return 0;
}
