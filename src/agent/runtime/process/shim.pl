#!/usr/bin/perl
# Berth process shim: the parent of one process container, like containerd's shim or conmon.
# Started detached (own session) by the agent, so it outlives agent restarts. It
#   1. forks the container chain, which joins the cgroup BEFORE exec'ing the user's command;
#   2. reports "<chainPid> <initPid>" on fd 3 and closes it (the agent waits for this line);
#   3. owns the container's stdout/stderr pipes and appends them to the log file in the CRI format
#      (`<RFC3339Nano> stdout|stderr F|P <line>`; P for chunks of lines over 16 KiB);
#   4. reaps the chain and writes STATE_DIR/exit (JSON) atomically, after the logs are drained.
# Perl (not Node) because it starts in ~20 ms and needs ~5 MB; Node takes ~300 ms and ~40 MB.
# Usage: shim.pl STATE_DIR LOG_PATH N PROCS_FILE... CMD ARG...   (container env in STATE_DIR/env, NUL-separated)
use strict;
use warnings;
use Time::HiRes qw(gettimeofday usleep);

my ($dir, $log, $n, @rest) = @ARGV;
my @procs = splice(@rest, 0, $n);
my @cmd = @rest;
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
  syswrite($logfh, $text) if length $text;
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
close $logfh;

my ($s, $us) = gettimeofday();
my $sig = $status & 127;
my $code = $sig ? 128 + $sig : $status >> 8;
my $json = sprintf('{"exitCode":%d,"signal":%d,"finishedAtMs":%d,"initPid":%d}', $code, $sig, $s * 1000 + int($us / 1000), $init);
open(my $xf, '>', "$dir/exit.tmp") or die "shim: exit: $!\n";
syswrite($xf, $json);
close $xf;
rename("$dir/exit.tmp", "$dir/exit") or die "shim: rename: $!\n";
exit 0;
