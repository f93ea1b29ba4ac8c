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
 *   file, and the init is the pid in it whose parent is CMD.
 * Env: BERTH_LOG_MAX_BYTES (default 10 MiB), BERTH_LOG_MAX_FILES (default 5, current included),
 *   BERTH_STDIN_FIFO=PATH (stdin: true — the command reads this FIFO, held open read-write so that
 *   it never sees EOF), BERTH_STDIN_ONCE=1 (stdinOnce — the command opens it read-only, and the shim
 *   holds a write end until SIGUSR1, sent once the first attach has opened its own).
 *
 * C, not a script: a shim per container is forked and exec'd on every pod start, and a small static
 * binary costs ~1 ms of CPU there where a Perl shim cost ~30 ms (interpreter pages copied on write).
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

#define MAX_LINE 16384
#define NATIVE "berth-native-chain"

extern char **environ;

static const char *g_log;
static long long g_log_max_bytes = 10LL * 1024 * 1024;
static long g_log_max_files = 5;
static int g_logfd = -1;
static long long g_log_size;
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

/* In the container's first process, before exec: the message goes to the container's stderr. */
static void child_fail(int code, const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  ssize_t w = write(2, "berth: ", 7);
  w = write(2, buf, n);
  (void)w;
  _exit(code);
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

/* ---- the CRI log file, with rotation ---- */

static void log_open(void) {
  g_logfd = open(g_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (g_logfd < 0) {
    fprintf(stderr, "shim: reopen %s: %s\n", g_log, strerror(errno));
    return;
  }
  struct stat st;
  g_log_size = fstat(g_logfd, &st) == 0 ? st.st_size : 0;
}

static void log_append(const char *p, size_t n) {
  if (g_logfd < 0) log_open(); /* a failed reopen after a rotation: try again, else drop */
  if (g_logfd < 0) return;
  size_t off = 0;
  while (off < n) {
    ssize_t w = write(g_logfd, p + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      fprintf(stderr, "shim: write %s: %s\n", g_log, strerror(errno));
      break;
    }
    off += (size_t)w;
  }
  g_log_size += (long long)off;
}

/* Same steps as rotateIfNeeded in src/agent/streams/log-file.ts: remove rotated files numbered
 * maxFiles-1 and above, shift LOG.(k-1) -> LOG.k down to LOG -> LOG.1, then reopen LOG. */
static void log_rotate(void) {
  long keep = g_log_max_files - 1;
  if (g_logfd >= 0) close(g_logfd);
  g_logfd = -1;
  const char *slash = strrchr(g_log, '/');
  char dir[PATH_MAX];
  const char *base = slash ? slash + 1 : g_log;
  if (!slash) strcpy(dir, ".");
  else if (slash == g_log) strcpy(dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - g_log), g_log);
  size_t blen = strlen(base);
  char a[PATH_MAX + 32], b[PATH_MAX + 32];
  DIR *dh = opendir(dir);
  if (dh) {
    struct dirent *e;
    while ((e = readdir(dh))) {
      const char *n = e->d_name;
      if (strncmp(n, base, blen) != 0 || n[blen] != '.' || !n[blen + 1]) continue;
      const char *num = n + blen + 1;
      if (strspn(num, "0123456789") != strlen(num)) continue;
      if (atol(num) >= keep) {
        snprintf(a, sizeof a, "%s.%s", g_log, num);
        unlink(a);
      }
    }
    closedir(dh);
  }
  if (keep >= 1) {
    for (long k = keep - 1; k >= 1; k--) {
      snprintf(a, sizeof a, "%s.%ld", g_log, k);
      snprintf(b, sizeof b, "%s.%ld", g_log, k + 1);
      if (access(a, F_OK) == 0) rename(a, b);
    }
    snprintf(a, sizeof a, "%s.1", g_log);
    if (rename(g_log, a) != 0) fprintf(stderr, "shim: rotate %s: %s\n", g_log, strerror(errno));
  } else {
    unlink(g_log);
  }
  g_log_size = 0;
  log_open();
}

/* Appends whole records; rotates after the record that brings the file to the limit, so a file
 * never ends inside a record and is at most the limit + one record long. */
static void log_write(const char *text, size_t len) {
  size_t pos = 0;
  while (pos < len) {
    long long room = g_log_max_bytes - g_log_size;
    size_t end = len;
    if (room <= 0 || (long long)pos + room < (long long)end) {
      size_t from = pos + (room > 0 ? (size_t)room - 1 : 0);
      const char *nl = from < len ? memchr(text + from, '\n', len - from) : NULL;
      if (nl) end = (size_t)(nl - text) + 1;
    }
    log_append(text + pos, end - pos);
    pos = end;
    if (g_log_size >= g_log_max_bytes) log_rotate();
  }
}

/* ---- output streams ---- */

struct stream {
  int fd;
  const char *name;
  char *buf;
  size_t len, cap;
};

static void stamp(char out[64]) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm t;
  gmtime_r(&tv.tv_sec, &t);
  snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld000Z", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
           t.tm_min, t.tm_sec, (long)tv.tv_usec);
}

/* Turns the buffered output into CRI records: whole lines as F, chunks of a line over MAX_LINE as P,
 * and at EOF the unterminated rest as F. */
static void emit(struct stream *s, int eof) {
  char ts[64];
  stamp(ts);
  size_t tslen = strlen(ts), nlen = strlen(s->name);
  size_t records = s->len / MAX_LINE + 2; /* P chunks and the last line; each newline adds one */
  for (const char *c = s->buf, *end = s->buf + s->len; (c = memchr(c, '\n', (size_t)(end - c))); c++) records++;
  size_t cap = s->len + records * (tslen + nlen + 8);
  char *out = malloc(cap);
  if (!out) die("out of memory");
  size_t o = 0, p = 0;
  for (;;) {
    const char *nl = memchr(s->buf + p, '\n', s->len - p);
    size_t rest = s->len - p, take, skip = 0;
    char kind = 'F';
    if (nl && (size_t)(nl - (s->buf + p)) <= MAX_LINE) {
      take = (size_t)(nl - (s->buf + p));
      skip = 1; /* the newline itself */
    } else if (rest > MAX_LINE) {
      take = MAX_LINE;
      kind = 'P';
    } else if (eof && rest > 0) {
      take = rest;
    } else {
      break;
    }
    o += (size_t)sprintf(out + o, "%s %s %c ", ts, s->name, kind);
    memcpy(out + o, s->buf + p, take);
    o += take;
    out[o++] = '\n';
    p += take + skip;
  }
  if (p > 0) {
    memmove(s->buf, s->buf + p, s->len - p);
    s->len -= p;
  }
  if (o) log_write(out, o);
  free(out);
}

/* Reads what is there; returns 0 at EOF (or error), 1 otherwise. */
static int pump(struct stream *s) {
  if (s->cap - s->len < 65536) {
    s->cap = s->len + 65536 * 2;
    s->buf = realloc(s->buf, s->cap);
    if (!s->buf) die("out of memory");
  }
  ssize_t r = read(s->fd, s->buf + s->len, 65536);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (r <= 0) {
    emit(s, 1);
    close(s->fd);
    s->fd = -1;
    return 0;
  }
  s->len += (size_t)r;
  emit(s, 0);
  return 1;
}

/* ---- the container's first process ---- */

static void sys_mount(const char *src, const char *target, const char *type, unsigned long flags) {
  if (mount(src, target, type, flags, NULL) != 0) child_fail(125, "mount %s: %s", target, strerror(errno));
}

/* The per-mount flags (nosuid, nodev, noexec, atime) of the mount at target, from mountinfo: a
 * read-only remount keeps them, as mount(8) does. */
static unsigned long mount_flags_of(const char *target) {
  char real[PATH_MAX];
  if (!realpath(target, real)) snprintf(real, sizeof real, "%s", target);
  FILE *mi = fopen("/proc/self/mountinfo", "re");
  if (!mi) return 0;
  char *line = NULL, opts[4096] = "";
  size_t cap = 0;
  while (getline(&line, &cap, mi) > 0) {
    char *f[7];
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok && n < 7; tok = strtok_r(NULL, " ", &save)) f[n++] = tok;
    if (n < 6) continue;
    char mp[PATH_MAX];
    size_t j = 0;
    for (const char *c = f[4]; *c && j < sizeof mp - 1; c++) {
      if (c[0] == '\\' && c[1] >= '0' && c[1] <= '7' && c[2] >= '0' && c[2] <= '7' && c[3] >= '0' && c[3] <= '7') {
        mp[j++] = (char)((c[1] - '0') * 64 + (c[2] - '0') * 8 + (c[3] - '0'));
        c += 3;
      } else {
        mp[j++] = *c;
      }
    }
    mp[j] = 0;
    if (strcmp(mp, real) == 0) snprintf(opts, sizeof opts, "%s", f[5]);
  }
  free(line);
  fclose(mi);
  unsigned long flags = 0;
  for (char *save = NULL, *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
    if (!strcmp(o, "nosuid")) flags |= MS_NOSUID;
    else if (!strcmp(o, "nodev")) flags |= MS_NODEV;
    else if (!strcmp(o, "noexec")) flags |= MS_NOEXEC;
    else if (!strcmp(o, "noatime")) flags |= MS_NOATIME;
    else if (!strcmp(o, "nodiratime")) flags |= MS_NODIRATIME;
    else if (!strcmp(o, "relatime")) flags |= MS_RELATIME;
  }
  return flags;
}

/* What `unshare --mount --uts --propagation private --mount-proc`, a setup script (hostname, bind
 * mounts, cwd) and `nsenter --net` would do. Returns the argv to exec. */
static char **native_setup(int argc, char **argv) {
  if (argc < 4) child_fail(125, "native chain: too few arguments");
  const char *host = argv[0], *wd = argv[1], *netns = argv[2];
  long n = atol(argv[3]);
  if (n < 0 || 4 + 3 * n > argc) child_fail(125, "native chain: bad mount count");
  /* The container dies with its shim: never an unsupervised copy. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(125, "prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
  if (*netns) {
    int fd = open(netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0) child_fail(125, "network namespace %s: %s", netns, strerror(errno));
    if (setns(fd, CLONE_NEWNET) != 0) child_fail(125, "setns %s: %s", netns, strerror(errno));
    close(fd);
  }
  if (unshare(CLONE_NEWNS | CLONE_NEWUTS) != 0) child_fail(125, "unshare(mount, uts): %s", strerror(errno));
  sys_mount("none", "/", NULL, MS_REC | MS_PRIVATE);
  sys_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  /* Our own UTS namespace: this hostname is the container's only. */
  if (sethostname(host, strlen(host)) != 0) child_fail(125, "sethostname: %s", strerror(errno));
  for (long i = 0; i < n; i++) {
    const char *src = argv[4 + 3 * i], *dst = argv[5 + 3 * i], *mode = argv[6 + 3 * i];
    sys_mount(src, dst, NULL, MS_BIND);
    if (!strcmp(mode, "ro")) sys_mount("none", dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | mount_flags_of(dst));
  }
  if (*wd && chdir(wd) != 0) child_fail(125, "cd %s: %s", wd, strerror(errno));
  return argv + 4 + 3 * n;
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

/* Parent pid of a process (from /proc/PID/stat), or -1. */
static long parent_of(long pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (r <= 0) return -1;
  buf[r] = 0;
  char *rp = strrchr(buf, ')');
  long ppid;
  char st;
  if (!rp || sscanf(rp + 1, " %c %ld", &st, &ppid) != 2) return -1;
  return ppid;
}

/* True once the process has a child (tini has forked the command); false where unknown. */
static int has_child(long pid) {
  char path[96], buf[64];
  snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", pid, pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  return r > 0 && buf[0] >= '0' && buf[0] <= '9';
}

/* A pid listed in `file` whose parent is `parent` (runc's pid file names the container's init). */
static long find_init(const char *file, long parent) {
  char buf[4096];
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (r <= 0) return 0;
  buf[r] = 0;
  for (char *save = NULL, *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
    long p = atol(t);
    if (p > 0 && p != parent && parent_of(p) == parent) return p;
  }
  return 0;
}

static void nap(double *delay) {
  struct timespec ts = {0, (long)(*delay * 1e9)};
  nanosleep(&ts, NULL);
  if (*delay < 0.004) *delay *= 2; /* 0.25 ms, doubling to 4 ms: quick when idle, few wake-ups when busy */
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
  g_log = args[2];
  long nprocs = atol(args[3]);
  if (nprocs < 0 || 4 + nprocs >= argc) die("bad arguments");
  char **procs = args + 4;
  char **cmd = args + 4 + nprocs;
  int cmdc = argc - 4 - (int)nprocs;
  set_title(argc, argv, dir, g_log);

  const char *e;
  if ((e = getenv("BERTH_LOG_MAX_BYTES")) && atoll(e) > 0) g_log_max_bytes = atoll(e);
  if ((e = getenv("BERTH_LOG_MAX_FILES")) && atol(e) > 0) g_log_max_files = atol(e);
  const char *stdin_fifo = getenv("BERTH_STDIN_FIFO");
  int has_fifo = stdin_fifo && *stdin_fifo;
  int stdin_once = has_fifo && (e = getenv("BERTH_STDIN_ONCE")) && !strcmp(e, "1");
  int native = !strcmp(cmd[0], NATIVE);

  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  /* fd 3 carries the ready line to the agent; the container must not inherit it. */
  int ready_fd = fcntl(3, F_GETFD) >= 0 ? 3 : -1;
  if (ready_fd >= 0) fcntl(ready_fd, F_SETFD, FD_CLOEXEC);

  char **env = read_env(dir);
  log_open();
  if (g_logfd < 0) die("log %s: %s", g_log, strerror(errno));
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
    /* The container gets default signal dispositions, whatever the shim ignores. */
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    if (g_stdin_hold >= 0) close(g_stdin_hold);
    int in = has_fifo ? open(stdin_fifo, stdin_once ? O_RDONLY : O_RDWR) : open("/dev/null", O_RDONLY);
    if (in < 0) child_fail(125, "stdin %s: %s", has_fifo ? stdin_fifo : "/dev/null", strerror(errno));
    if (dup2(in, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) _exit(125);
    if (in > 2) close(in);
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
  double delay = 0.00025, deadline = now_s() + 2;
  if (native) {
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
        if (waitpid(pid, &status, WNOHANG) == pid) { reaped = 1; break; }
        nap(&delay);
      }
    } else {
      /* It ended before its setup was done: report no init. */
      if (waitpid(pid, &status, 0) == pid) reaped = 1;
    }
  } else {
    while (nprocs > 0 && now_s() < deadline) {
      if ((init = find_init(procs[0], pid))) break;
      if (waitpid(pid, &status, WNOHANG) == pid) { reaped = 1; break; }
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
  double reaped_at = reaped ? now_s() : 0;
  for (;;) {
    struct pollfd pf[3];
    int n = 0;
    for (int i = 0; i < 2; i++) if (streams[i].fd >= 0) pf[n++] = (struct pollfd){streams[i].fd, POLLIN, 0};
    if (n == 0) break;
    pf[n++] = (struct pollfd){g_sigpipe[0], POLLIN, 0};
    /* Once the process is reaped, writers that escaped the pid namespace must not hold the exit
     * report back for long. */
    if (reaped && now_s() - reaped_at > 2) break;
    int r = poll(pf, (nfds_t)n, reaped ? 200 : 2000);
    if (r < 0 && errno != EINTR) break;
    for (int j = 0; r > 0 && j < n; j++) {
      if (!pf[j].revents) continue;
      if (pf[j].fd == g_sigpipe[0]) {
        char drain[64];
        while (read(g_sigpipe[0], drain, sizeof drain) > 0) {}
        continue;
      }
      for (int i = 0; i < 2; i++) if (streams[i].fd == pf[j].fd) pump(&streams[i]);
    }
    if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
      reaped = 1;
      reaped_at = now_s();
    }
  }
  if (!reaped && waitpid(pid, &status, 0) != pid) status = 255 << 8;
  for (int i = 0; i < 2; i++) {
    if (streams[i].fd >= 0) {
      emit(&streams[i], 1);
      close(streams[i].fd);
    }
  }
  if (g_logfd >= 0) close(g_logfd);

  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  int code = sig ? 128 + sig : WEXITSTATUS(status);
  char json[256], tmp[PATH_MAX], final[PATH_MAX];
  int jl = snprintf(json, sizeof json, "{\"exitCode\":%d,\"signal\":%d,\"finishedAtMs\":%lld,\"initPid\":%ld}", code, sig, now_ms(), init);
  snprintf(tmp, sizeof tmp, "%s/exit.tmp", dir);
  snprintf(final, sizeof final, "%s/exit", dir);
  int xf = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (xf < 0) die("exit: %s", strerror(errno));
  write_all(xf, json, (size_t)jl);
  close(xf);
  if (rename(tmp, final) != 0) die("rename: %s", strerror(errno));
  return 0;
}
