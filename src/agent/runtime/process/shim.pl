#!/usr/bin/perl
# Berth process shim: the parent of one process container, like containerd's shim or conmon.
# Started detached (own session) by the agent, so it outlives agent restarts. It
#   1. forks the container chain, which joins the cgroup BEFORE exec'ing the user's command;
#   2. reports "<chainPid> <initPid>" on fd 3 and closes it (the agent waits for this line);
#   3. owns the container's stdout/stderr pipes and appends them to the log file in the CRI format
#      (`<RFC3339Nano> stdout|stderr F|P <line>`; P for chunks of lines over 16 KiB);
#   4. rotates the log file by size between whole records, with the naming scheme of
#      src/agent/streams/log-file.ts (rotateIfNeeded): LOG.(k-1) -> LOG.k ... LOG -> LOG.1, none past
#      LOG.(maxFiles-1), then a fresh LOG;
#   5. reaps the chain and writes STATE_DIR/exit (JSON) atomically, after the logs are drained.
# Perl (not Node) because it starts in ~20 ms and needs ~5 MB; Node takes ~300 ms and ~40 MB.
# Usage: shim.pl STATE_DIR LOG_PATH N PROCS_FILE... CMD ARG...   (container env in STATE_DIR/env, NUL-separated)
# Env: BERTH_LOG_MAX_BYTES (default 10 MiB), BERTH_LOG_MAX_FILES (default 5; files in all, current included).
# The file is also a module: spawner.pl loads it once (`require`) and runs BerthShim::run(ARGV...)
# in a fork, with fd 2 on shim.log and fd 3 on its ready pipe, which saves a Perl start per container.
package BerthShim;
use strict;
use warnings;
use Fcntl qw(F_SETFD FD_CLOEXEC);
use Time::HiRes qw(gettimeofday usleep);

use constant { CLONE_NEWNS => 0x00020000, CLONE_NEWUTS => 0x04000000, CLONE_NEWPID => 0x20000000, CLONE_NEWNET => 0x40000000 };
use constant { MS_RDONLY => 1, MS_NOSUID => 2, MS_NODEV => 4, MS_NOEXEC => 8, MS_REMOUNT => 32, MS_NOATIME => 1024,
  MS_NODIRATIME => 2048, MS_BIND => 4096, MS_REC => 16384, MS_PRIVATE => 1 << 18, MS_RELATIME => 1 << 21 };

# State of the one shim this process runs (set by run; the subs below share it).
my ($dir, $log, $log_max_bytes, $log_max_files, $logfh, $log_size);
my $MAX = 16384;
my (%buf, %name);

run(@ARGV) unless caller;
1;

sub run {
  my ($n, @rest);
  ($dir, $log, $n, @rest) = @_;
  my @procs = splice(@rest, 0, $n);
  my @cmd = @rest;
  $log_max_bytes = ($ENV{BERTH_LOG_MAX_BYTES} // '') =~ /^([1-9]\d*)$/ ? $1 + 0 : 10 * 1024 * 1024;
  $log_max_files = ($ENV{BERTH_LOG_MAX_FILES} // '') =~ /^([1-9]\d*)$/ ? $1 + 0 : 5;
  $SIG{PIPE} = 'IGNORE';
  $SIG{HUP} = 'IGNORE';
  $SIG{INT} = 'IGNORE';
  # fd 3 carries the ready line to the agent; the container chain must not inherit it.
  my $ready_fh;
  if (open($ready_fh, '>&=', 3)) { fcntl($ready_fh, F_SETFD, FD_CLOEXEC); } else { undef $ready_fh; }

  my %env;
  {
    open(my $ef, '<', "$dir/env") or die "shim: $dir/env: $!\n";
    local $/;
    my $raw = <$ef>;
    close $ef;
    for my $kv (split /\0/, $raw // '') {
      my ($k, $v) = split /=/, $kv, 2;
      $env{$k} = $v if defined $k && length $k;
    }
  }

  open($logfh, '>>', $log) or die "shim: log $log: $!\n";
  $log_size = (-s $logfh) || 0;
  pipe(my $out_r, my $out_w) or die "shim: pipe: $!\n";
  pipe(my $err_r, my $err_w) or die "shim: pipe: $!\n";
  # BERTH_INIT_NOTIFY=1: the chain gets fd 4, writes one byte on it when its setup is done (just
  # before it execs the container's command chain) and closes it; the shim waits for that instead
  # of polling for the init process.
  my $notify = ($ENV{BERTH_INIT_NOTIFY} // '') eq '1';
  my ($notify_r, $notify_w);
  if ($notify) {
    require POSIX;
    pipe($notify_r, $notify_w) or die "shim: pipe: $!\n";
  }
  # BERTH_CHAIN=native (with BERTH_INIT_NOTIFY): CMD is `berth-native-chain HOSTNAME WORKDIR NETNS N
  # (SRC DST ro|rw)xN EXEC...` and the container is set up here with system calls (see native_setup)
  # instead of by unshare + sh + mount + nsenter. The shim unshares the pid namespace first, so the
  # chain it forks is the container's pid 1 itself.
  my $native = $notify && ($ENV{BERTH_CHAIN} // '') eq 'native' && @cmd && $cmd[0] eq 'berth-native-chain';
  my $nr;
  if ($native) {
    $nr = syscall_numbers() or die "shim: no system call numbers for this machine\n";
    syscall($nr->{unshare}, CLONE_NEWPID) == 0 or die "shim: unshare(CLONE_NEWPID): $!\n";
  }

  # BERTH_STDIN_FIFO=PATH (a container with `stdin: true`): the command's stdin is a FIFO, opened
  # read-write so that it never reaches EOF; `kubectl attach -i` writes into it through the agent.
  # BERTH_STDIN_ONCE=1 (`stdinOnce: true`): the command opens it read-only instead, and the shim holds
  # a write end (close-on-exec) until SIGUSR1 — sent by the agent once the first attach has opened
  # its own — so that the end of that attach's stdin is an EOF for the command, as in Kubernetes.
  my $stdin_fifo = $ENV{BERTH_STDIN_FIFO};
  my $stdin_once = ($ENV{BERTH_STDIN_ONCE} // '') eq '1';
  my $stdin_hold;
  my $has_fifo = defined $stdin_fifo && length $stdin_fifo;
  if ($has_fifo) {
    if (!-p $stdin_fifo) {
      require POSIX;
      POSIX::mkfifo($stdin_fifo, 0600) or die "shim: mkfifo $stdin_fifo: $!\n";
    }
    if ($stdin_once) {
      open($stdin_hold, '+<', $stdin_fifo) or die "shim: $stdin_fifo: $!\n";
      fcntl($stdin_hold, F_SETFD, FD_CLOEXEC);
      $SIG{USR1} = sub { close $stdin_hold if $stdin_hold; undef $stdin_hold; };
    }
  }

  my $pid = fork();
  die "shim: fork: $!\n" unless defined $pid;
  if ($pid == 0) {
    close $out_r; close $err_r; close $logfh;
    if ($has_fifo) {
      close $stdin_hold if $stdin_hold;
      unless (open(STDIN, $stdin_once ? '<' : '+<', $stdin_fifo)) { print STDERR "berth: stdin $stdin_fifo: $!\n"; exit 125; }
    } else {
      open(STDIN, '<', '/dev/null');
    }
    open(STDOUT, '>&', $out_w);
    open(STDERR, '>&', $err_w);
    close $out_w; close $err_w;
    if ($notify && !$native) {
      close $notify_r;
      # fd 4 is inherited by the chain: not close-on-exec (dup2 clears the flag on its copy).
      if (fileno($notify_w) == 4) {
        fcntl($notify_w, F_SETFD, 0);
      } else {
        unless (defined POSIX::dup2(fileno($notify_w), 4)) { print STDERR "berth: dup2: $!\n"; exit 125; }
        close $notify_w;
      }
    }
    # Join the cgroup first: everything exec'd from here on is limited and accounted.
    for my $p (@procs) {
      my $f;
      my $ok = open($f, ">", $p) && syswrite($f, "$$\n") && close($f);
      unless ($ok) { print STDERR "berth: cannot join cgroup $p: $!\n"; exit 125; }
    }
    if ($native) {
      close $notify_r;
      @cmd = eval { native_setup($nr, @cmd[1 .. $#cmd]) };
      if ($@) { print STDERR "berth: $@"; exit 125; }
      # Setup done: tell the shim ($notify_w is close-on-exec: the command never sees it).
      syswrite($notify_w, 'x');
    }
    %ENV = %env;
    { exec { $cmd[0] } @cmd; }
    print STDERR "berth: exec $cmd[0]: $!\n";
    exit 127;
  }
  close $out_w; close $err_w;

  # The init process (tini, pid 1 of the container's pid namespace) is the chain's only child;
  # there is no /proc/PID/task/TID/children everywhere, so look for it among the cgroup's members.
  my $init = 0;
  my $early_status;
  my $scan_file = $procs[0];
  my $scans = 2000;
  if ($notify) {
    close $notify_w;
    my $byte = '';
    while (!defined sysread($notify_r, $byte, 1)) { last unless $!{EINTR}; }
    close $notify_r;
    if (length $byte) {
      if ($native) {
        $init = $pid;    # the chain is the container's pid 1
      } elsif (open(my $c, '<', "/proc/$pid/task/$pid/children")) {
        # Setup is done: the init exists. One look (the children file, else the cgroup) finds it.
        my $kids = <$c> // '';
        close $c;
        $init = $1 + 0 if $kids =~ /^(\d+)/;
      }
      # The init now execs the command chain ([nsenter,] [setpriv,] tini); report once tini has
      # forked the command — its first child — so the container is never reported before its
      # process exists. (A few ms; bounded; skipped where the kernel has no children file.)
      for (my $i = 0; $init && $i < 4000; $i++) {
        open(my $c, '<', "/proc/$init/task/$init/children") or last;
        my $kids = <$c> // '';
        close $c;
        last if $kids =~ /\d/;
        if (waitpid($pid, 1) == $pid) { $early_status = $?; last; }
        usleep(500);
      }
      $scans = 20;
    } else {
      # The chain ended before its setup was done (EOF): report no init.
      $scans = 0;
      $early_status = $? if waitpid($pid, 0) == $pid;
    }
  }
  for (my $i = 0; $i < $scans && !$init; $i++) {
    if (open(my $f, '<', $scan_file)) {
      while (my $p = <$f>) {
        chomp $p;
        next if $p eq $pid;
        if (open(my $s, '<', "/proc/$p/stat")) {
          my $st = <$s>; close $s;
          if (defined $st && $st =~ /\)\s+\S+\s+(\d+)/ && $1 == $pid) { $init = $p + 0; last; }
        }
      }
      close $f;
    }
    last if $init;
    if (waitpid($pid, 1) == $pid) { $early_status = $?; last; }    # chain died early: report 0
    usleep(500);
  }
  if ($ready_fh) { syswrite($ready_fh, "$pid $init\n"); close $ready_fh; }

  %buf = ($out_r => '', $err_r => '');
  %name = ($out_r => 'stdout', $err_r => 'stderr');

  # Plain 4-argument select: IO::Select costs a few ms of start-up on every container.
  # SIGCHLD interrupts the select when the chain exits, so an idle shim sleeps instead of polling;
  # the timeout only covers a signal that lands just before select is entered.
  $SIG{CHLD} = sub { };
  my %open = (fileno($out_r) => $out_r, fileno($err_r) => $err_r);
  my $status = $early_status;
  my $reaped_at;
  while (%open) {
    my $rin = '';
    vec($rin, $_, 1) = 1 for keys %open;
    my $rout = $rin;
    my $ready = select($rout, undef, undef, defined $status ? 0.2 : 2);
    for my $fd ($ready > 0 ? keys %open : ()) {
      next unless vec($rout, $fd, 1);
      my $fh = $open{$fd};
      my $r = sysread($fh, $buf{$fh}, 65536, length $buf{$fh});
      next if !defined $r && $!{EINTR};
      if (!$r) { emit($fh, 1); delete $open{$fd}; close $fh; }
      else { emit($fh, 0); }
    }
    if (!defined $status && waitpid($pid, 1) == $pid) { $status = $?; }
    $reaped_at //= time() if defined $status;
    # Writers that escaped the pid namespace must not keep the exit report back for long.
    last if defined $reaped_at && time() - $reaped_at > 2;
  }
  $status = (waitpid($pid, 0) == $pid ? $? : 255 << 8) unless defined $status;
  for my $fh (values %open) { emit($fh, 1); }
  close $logfh if $logfh;

  my ($s, $us) = gettimeofday();
  my $sig = $status & 127;
  my $code = $sig ? 128 + $sig : $status >> 8;
  my $json = sprintf('{"exitCode":%d,"signal":%d,"finishedAtMs":%d,"initPid":%d}', $code, $sig, $s * 1000 + int($us / 1000), $init);
  open(my $xf, '>', "$dir/exit.tmp") or die "shim: exit: $!\n";
  syswrite($xf, $json);
  close $xf;
  rename("$dir/exit.tmp", "$dir/exit") or die "shim: rename: $!\n";
  exit 0;
}

sub stamp {
  my ($s, $us) = gettimeofday();
  my @t = gmtime($s);
  return sprintf('%04d-%02d-%02dT%02d:%02d:%02d.%06d000Z', $t[5] + 1900, $t[4] + 1, @t[3, 2, 1, 0], $us);
}

sub emit {
  my ($fh, $eof) = @_;
  my $ts = stamp();
  my $text = '';
  my $b = \$buf{$fh};
  while (1) {
    my $nl = index($$b, "\n");
    if ($nl >= 0 && $nl <= $MAX) {
      my $line = substr($$b, 0, $nl + 1, '');
      chop $line;
      $text .= "$ts $name{$fh} F $line\n";
    } elsif (length($$b) > $MAX || ($nl > $MAX)) {
      $text .= "$ts $name{$fh} P " . substr($$b, 0, $MAX, '') . "\n";
    } elsif ($eof && length $$b) {
      $text .= "$ts $name{$fh} F " . $$b . "\n";
      $$b = '';
    } else { last; }
  }
  log_write($text) if length $text;
}

# Appends whole records; rotates after the record that brings the file to $log_max_bytes, so a
# file never ends inside a record and is at most $log_max_bytes + one record long.
sub log_write {
  my ($text) = @_;
  my $pos = 0;
  while ($pos < length $text) {
    my $room = $log_max_bytes - $log_size;
    my $end = length $text;
    if ($room <= 0 || $pos + $room < $end) {
      my $nl = index($text, "\n", $pos + ($room > 0 ? $room - 1 : 0));
      $end = $nl + 1 if $nl >= 0;
    }
    log_append(substr($text, $pos, $end - $pos));
    $pos = $end;
    log_rotate() if $log_size >= $log_max_bytes;
  }
}

sub log_append {
  my ($chunk) = @_;
  unless ($logfh) {    # a failed reopen after a rotation: try again, else drop the output
    open($logfh, '>>', $log) or do { undef $logfh; print STDERR "shim: reopen $log: $!\n"; return; };
    $log_size = (-s $logfh) || 0;
  }
  my $off = 0;
  while ($off < length $chunk) {
    my $w = syswrite($logfh, $chunk, length($chunk) - $off, $off);
    unless ($w) { print STDERR "shim: write $log: $!\n"; last; }
    $off += $w;
  }
  $log_size += $off;
}

# Same steps as rotateIfNeeded in src/agent/streams/log-file.ts: remove rotated files numbered
# maxFiles-1 and above, shift LOG.(k-1) -> LOG.k down to LOG -> LOG.1, then reopen LOG.
sub log_rotate {
  my $keep = $log_max_files - 1;
  close $logfh if $logfh;
  undef $logfh;
  my ($ldir, $lbase) = $log =~ m{^(.*)/([^/]*)$} ? ($1 eq '' ? '/' : $1, $2) : ('.', $log);
  if (opendir(my $dh, $ldir)) {
    for my $name (readdir $dh) {
      next unless substr($name, 0, length($lbase) + 1) eq "$lbase." && substr($name, length($lbase) + 1) =~ /^(\d+)$/;
      unlink("$log.$1") if $1 >= $keep;
    }
    closedir $dh;
  }
  if ($keep >= 1) {
    for (my $k = $keep - 1; $k >= 1; $k--) { rename("$log.$k", "$log." . ($k + 1)) if -e "$log.$k"; }
    rename($log, "$log.1") or print STDERR "shim: rotate $log: $!\n";
  } else {
    unlink($log);
  }
  $log_size = 0;
  open($logfh, '>>', $log) or do { undef $logfh; print STDERR "shim: reopen $log: $!\n"; };
}


# System call numbers of the native chain, per machine (undef elsewhere: the agent then uses the
# unshare + sh chain).
sub syscall_numbers {
  require POSIX;
  my $m = (POSIX::uname())[4] // '';
  return { unshare => 272, mount => 165, sethostname => 170, setns => 308, prctl => 157 } if $m eq 'x86_64';
  return { unshare => 97, mount => 40, sethostname => 161, setns => 268, prctl => 167 } if $m eq 'aarch64';
  return undef;
}

# mount(2); Perl's syscall passes strings as pointers and numbers as numbers ("$x" keeps a value a
# string; 0 is NULL).
sub sys_mount {
  my ($nr, $src, $target, $type, $flags) = @_;
  my $r = syscall($nr->{mount}, defined $src ? "$src" : 0, "$target", defined $type ? "$type" : 0, $flags + 0, 0);
  die "mount $target: $!\n" if $r != 0;
}

# The per-mount flags (nosuid, nodev, noexec, atime) of the mount at $target, from mountinfo: a
# read-only remount keeps them, as mount(8) does.
sub mount_flags_of {
  my ($target) = @_;
  require Cwd;
  my $real = Cwd::abs_path($target) // $target;
  open(my $mi, '<', '/proc/self/mountinfo') or return 0;
  my $opts;
  while (my $line = <$mi>) {
    my @f = split / /, $line;
    next unless @f > 5;
    (my $mp = $f[4]) =~ s/\\([0-7]{3})/chr(oct($1))/ge;
    $opts = $f[5] if $mp eq $real;
  }
  close $mi;
  my %bit = (nosuid => MS_NOSUID, nodev => MS_NODEV, noexec => MS_NOEXEC, noatime => MS_NOATIME, nodiratime => MS_NODIRATIME, relatime => MS_RELATIME);
  my $flags = 0;
  $flags |= $bit{$_} // 0 for split /,/, $opts // '';
  return $flags;
}

# In the container's pid 1 (forked after the shim unshared the pid namespace): what `unshare --mount
# --uts --propagation private --mount-proc`, the setup script (hostname, bind mounts, cwd) and
# `nsenter --net` did. Dies with a message on any failure. Returns the argv to exec.
sub native_setup {
  my ($nr, $host, $wd, $netns, $n, @rest) = @_;
  my @mounts = splice(@rest, 0, 3 * $n);
  # The container dies with its shim (as it did with unshare --kill-child): never an unsupervised copy.
  syscall($nr->{prctl}, 1, 9) == 0 or die "prctl(PR_SET_PDEATHSIG): $!\n";
  if (length $netns) {
    open(my $ns, '<', $netns) or die "network namespace $netns: $!\n";
    syscall($nr->{setns}, fileno($ns), CLONE_NEWNET) == 0 or die "setns $netns: $!\n";
    close $ns;
  }
  syscall($nr->{unshare}, CLONE_NEWNS | CLONE_NEWUTS) == 0 or die "unshare(mount, uts): $!\n";
  sys_mount($nr, 'none', '/', undef, MS_REC | MS_PRIVATE);
  sys_mount($nr, 'proc', '/proc', 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC);
  # Our own UTS namespace: this hostname is the container's only.
  syscall($nr->{sethostname}, "$host", length $host) == 0 or die "sethostname: $!\n";
  while (@mounts) {
    my ($src, $dst, $mode) = splice(@mounts, 0, 3);
    sys_mount($nr, $src, $dst, undef, MS_BIND);
    sys_mount($nr, 'none', $dst, undef, MS_REMOUNT | MS_BIND | MS_RDONLY | mount_flags_of($dst)) if $mode eq 'ro';
  }
  if (length $wd) { chdir($wd) or die "cd $wd: $!\n"; }
  return @rest;
}
