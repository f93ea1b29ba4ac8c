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
use strict;
use warnings;
use Time::HiRes qw(gettimeofday usleep);

my ($dir, $log, $n, @rest) = @ARGV;
my @procs = splice(@rest, 0, $n);
my @cmd = @rest;
my $log_max_bytes = ($ENV{BERTH_LOG_MAX_BYTES} // '') =~ /^([1-9]\d*)$/ ? $1 + 0 : 10 * 1024 * 1024;
my $log_max_files = ($ENV{BERTH_LOG_MAX_FILES} // '') =~ /^([1-9]\d*)$/ ? $1 + 0 : 5;
$SIG{PIPE} = 'IGNORE';
$SIG{HUP} = 'IGNORE';
$SIG{INT} = 'IGNORE';

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

open(my $logfh, '>>', $log) or die "shim: log $log: $!\n";
my $log_size = (-s $logfh) || 0;
pipe(my $out_r, my $out_w) or die "shim: pipe: $!\n";
pipe(my $err_r, my $err_w) or die "shim: pipe: $!\n";

my $pid = fork();
die "shim: fork: $!\n" unless defined $pid;
if ($pid == 0) {
  close $out_r; close $err_r; close $logfh;
  open(STDIN, '<', '/dev/null');
  open(STDOUT, '>&', $out_w);
  open(STDERR, '>&', $err_w);
  close $out_w; close $err_w;
  # Join the cgroup first: everything exec'd from here on is limited and accounted.
  for my $p (@procs) {
    my $f;
    my $ok = open($f, ">", $p) && syswrite($f, "$$\n") && close($f);
    unless ($ok) { print STDERR "berth: cannot join cgroup $p: $!\n"; exit 125; }
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
for (my $i = 0; $i < 2000 && !$init; $i++) {
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
if (open(my $ready, '>&=', 3)) { syswrite($ready, "$pid $init\n"); close $ready; }

sub stamp {
  my ($s, $us) = gettimeofday();
  my @t = gmtime($s);
  return sprintf('%04d-%02d-%02dT%02d:%02d:%02d.%06d000Z', $t[5] + 1900, $t[4] + 1, @t[3, 2, 1, 0], $us);
}

my $MAX = 16384;
my %buf = ($out_r => '', $err_r => '');
my %name = ($out_r => 'stdout', $err_r => 'stderr');
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

# Plain 4-argument select: IO::Select costs a few ms of start-up on every container.
my %open = (fileno($out_r) => $out_r, fileno($err_r) => $err_r);
my $status = $early_status;
my $reaped_at;
while (%open) {
  my $rin = '';
  vec($rin, $_, 1) = 1 for keys %open;
  my $rout = $rin;
  my $ready = select($rout, undef, undef, 0.2);
  for my $fd ($ready > 0 ? keys %open : ()) {
    next unless vec($rout, $fd, 1);
    my $fh = $open{$fd};
    my $r = sysread($fh, $buf{$fh}, 65536, length $buf{$fh});
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
