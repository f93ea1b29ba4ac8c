#!/usr/bin/perl
# Berth spawn helper: forks and execs the agent's short commands (ip, CNI plugins, nft) and starts
# process-runtime shims, so the agent's Node process never forks itself. A fork of a large Node
# process blocks its event loop until the child has exec'd (libuv waits for it) and copies its page
# tables: ~5-20 ms per command on a small VM, several commands per pod. This process is ~5 MB.
#
# Shims are forked from here WITHOUT an exec: shim.pl is loaded once (`require`), and each shim is a
# fork that calls BerthShim::run — no Perl start-up (~15-30 ms) per container. The shim calls setsid,
# so it outlives this helper and the agent exactly like an exec'd shim.
#
# Protocol: one line per message, fields separated by one space, strings base64-encoded (B).
#   agent -> helper
#     C id B(file) B(input) nenv B(k=v)... nargs B(arg)...   run a command, stdio pipes, input on stdin
#     H id B(shimLog) nenv B(k=v)... nargs B(arg)...          fork a shim (args = shim.pl's ARGV)
#     K id signo                                             signal the child of request id
#     M id B(source) B(target) B(fstype) B(data)             mount(2) here, no fork (overlay rootfs)
#     U id B(target) flags                                   umount2(2) here, no fork
#   helper -> agent
#     P id pid                        forked
#     R id chainPid initPid           a shim's ready line
#     F id B(message)                 exec failed (the command never ran)
#     X id code signo B(stdout) B(stderr)   exited (code -1 when killed by a signal); for M and U:
#                                     code 0, or the errno with the message as stderr
# The helper exits when its stdin closes (the agent is gone); shims keep running.
# Usage: spawner.pl SHIM_PATH [padding]   (the padding leaves room in argv for the shims' $0)
use strict;
use warnings;
use POSIX ();
use MIME::Base64 qw(encode_base64 decode_base64);
use Fcntl ();

my $shim_path = shift @ARGV;
# Loaded once here, shared by every forked shim: the shim itself and what its native chain uses.
my $shim_loaded = eval { require $shim_path; require Cwd; 1 };
my $shim_error = $@;

$SIG{PIPE} = 'IGNORE';
$SIG{HUP} = 'IGNORE';
$SIG{INT} = 'IGNORE';
my $chld = 0;
$SIG{CHLD} = sub { $chld = 1 };

sub b64 { return encode_base64(defined $_[0] ? $_[0] : '', '') }
sub unb64 { return decode_base64($_[0] // '') }

my $to_agent = '';    # pending output to the agent (stdout)
sub send_line { $to_agent .= join(' ', @_) . "\n" }

my %req;      # id -> { pid, kind, out, err, fds (open read fds), status, failed }
my %by_pid;   # pid -> id
my %rd;       # fileno -> [fh, id, what]   what: out | err | fail | ready
my %wr;       # fileno -> [fh, data]       a child's stdin still being written

sub close_fd {
  my ($fd) = @_;
  my $e = delete $rd{$fd} or return;
  close $e->[0];
  my $r = $req{$e->[1]};
  $r->{fds}-- if $r;
}

sub reset_signals { $SIG{$_} = 'DEFAULT' for qw(PIPE HUP INT CHLD TERM QUIT) }

sub read_fields {
  my ($f) = @_;
  my $n = shift @$f // 0;
  return map { unb64(shift @$f) } 1 .. $n;
}

sub start_command {
  my ($id, $f) = @_;
  my $file = unb64(shift @$f);
  my $input = unb64(shift @$f);
  my @env = read_fields($f);
  my @args = read_fields($f);
  my ($in_r, $in_w, $out_r, $out_w, $err_r, $err_w, $x_r, $x_w);
  unless (pipe($in_r, $in_w) && pipe($out_r, $out_w) && pipe($err_r, $err_w) && pipe($x_r, $x_w)) {
    send_line('F', $id, b64("pipe: $!"));
    return;
  }
  my $pid = fork();
  if (!defined $pid) {
    send_line('F', $id, b64("fork: $!"));
    close $_ for ($in_r, $in_w, $out_r, $out_w, $err_r, $err_w, $x_r, $x_w);
    return;
  }
  if ($pid == 0) {
    reset_signals();
    POSIX::dup2(fileno($in_r), 0);
    POSIX::dup2(fileno($out_w), 1);
    POSIX::dup2(fileno($err_w), 2);
    # Every other descriptor is close-on-exec (Perl's default above fd 2), $x_w included: it
    # reaches EOF on a successful exec and carries errno otherwise.
    %ENV = ();
    for my $kv (@env) { my ($k, $v) = split /=/, $kv, 2; $ENV{$k} = $v if defined $k && length $k; }
    { no warnings 'exec'; exec { $file } $file, @args; }
    syswrite($x_w, "$!");
    POSIX::_exit(127);
  }
  close $in_r; close $out_w; close $err_w; close $x_w;
  $req{$id} = { pid => $pid, kind => 'C', out => '', err => '', fail => '', fds => 3 };
  $by_pid{$pid} = $id;
  $rd{fileno $out_r} = [$out_r, $id, 'out'];
  $rd{fileno $err_r} = [$err_r, $id, 'err'];
  $rd{fileno $x_r} = [$x_r, $id, 'fail'];
  send_line('P', $id, $pid);
  if (length $input) {
    my $fl = fcntl($in_w, Fcntl::F_GETFL(), 0);
    fcntl($in_w, Fcntl::F_SETFL(), $fl | Fcntl::O_NONBLOCK());
    $wr{fileno $in_w} = [$in_w, $input];
  } else {
    close $in_w;
  }
}

sub start_shim {
  my ($id, $f) = @_;
  my $shim_log = unb64(shift @$f);
  my @env = read_fields($f);
  my @args = read_fields($f);
  unless ($shim_loaded) { send_line('F', $id, b64("cannot load $shim_path: $shim_error")); return; }
  my ($ready_r, $ready_w);
  unless (pipe($ready_r, $ready_w)) { send_line('F', $id, b64("pipe: $!")); return; }
  my $pid = fork();
  if (!defined $pid) { send_line('F', $id, b64("fork: $!")); close $ready_r; close $ready_w; return; }
  if ($pid == 0) {
    eval {
      # No exec follows, so close-on-exec does not help: this helper's descriptors (other requests'
      # pipes) are closed here — through their Perl handles, because PerlIO counts references per
      # fd number and a stale handle would keep a reused fd (the shim's own pipes) from closing.
      close $_->[0] for values %rd, values %wr;
      %rd = (); %wr = ();
      close $ready_r;
      POSIX::setsid();
      reset_signals();
      open(STDIN, '<', '/dev/null');
      open(STDOUT, '>', '/dev/null');
      open(STDERR, '>>', $shim_log) or open(STDERR, '>', '/dev/null');
      # fd 3: the ready line (the shim keeps it from its chain).
      if (fileno($ready_w) != 3) { POSIX::dup2(fileno($ready_w), 3); close $ready_w; }
      # Anything else above fd 3 has no Perl handle: close it raw.
      if (opendir(my $dh, '/proc/self/fd')) {
        my @fds = grep { /^\d+$/ && $_ > 3 } readdir $dh;
        closedir $dh;
        POSIX::close($_) for @fds;
      }
      %ENV = ();
      for my $kv (@env) { my ($k, $v) = split /=/, $kv, 2; $ENV{$k} = $v if defined $k && length $k; }
      $0 = "berth-shim " . join(' ', @args[0, 1]);
      BerthShim::run(@args);
    };
    print STDERR "shim: $@" if $@;
    POSIX::_exit(1);
  }
  close $ready_w;
  $req{$id} = { pid => $pid, kind => 'H', out => '', err => '', fail => '', ready => '', fds => 1 };
  $by_pid{$pid} = $id;
  $rd{fileno $ready_r} = [$ready_r, $id, 'ready'];
  send_line('P', $id, $pid);
}

# mount(2) / umount2(2) by system call: a mount(8) command costs a fork and an exec (~20 ms on a
# small VM) for what the kernel does in well under a millisecond. Machines without known system
# call numbers answer code -2, and the agent runs mount(8) instead.
my %mount_nr = (x86_64 => [165, 166], aarch64 => [40, 39]);
sub mount_request {
  my ($op, $id, $f) = @_;
  my $nr = $mount_nr{(POSIX::uname())[4] // ''};
  unless ($nr) { send_line('X', $id, -2, 0, '', b64('no mount system call numbers for this machine')); return; }
  my $r;
  if ($op eq 'M') {
    my ($src, $target, $type, $data) = map { unb64($_) } @$f[0 .. 3];
    $r = syscall($nr->[0], "$src", "$target", "$type", 0, length $data ? "$data" : 0);
  } else {
    my $target = unb64($f->[0]);
    $r = syscall($nr->[1], "$target", ($f->[1] // 0) + 0);
  }
  if ($r == 0) { send_line('X', $id, 0, 0, '', ''); return; }
  send_line('X', $id, ($! + 0) || 1, 0, '', b64("$!"));
}

sub handle_request {
  my ($line) = @_;
  my @f = split / /, $line;
  my $op = shift @f;
  my $id = shift @f;
  return unless defined $id;
  if ($op eq 'C') { start_command($id, \@f) }
  elsif ($op eq 'H') { start_shim($id, \@f) }
  elsif ($op eq 'M' || $op eq 'U') { mount_request($op, $id, \@f) }
  elsif ($op eq 'K') {
    my $r = $req{$id};
    kill($f[0] + 0, $r->{pid}) if $r && !defined $r->{status};
  }
}

sub reap {
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $id = delete $by_pid{$pid};
    next unless defined $id;
    $req{$id}{status} = $?;
  }
}

# A request is done when its child is reaped and its pipes are drained.
sub finish_done {
  for my $id (keys %req) {
    my $r = $req{$id};
    next unless defined $r->{status} && $r->{fds} <= 0;
    delete $req{$id};
    if (length $r->{fail}) { send_line('F', $id, b64($r->{fail})); next; }
    my $st = $r->{status};
    my $sig = $st & 127;
    my $code = $sig ? -1 : $st >> 8;
    send_line('X', $id, $code, $sig, b64($r->{out}), b64($r->{err}));
  }
}

my $in = '';
my $stdin_open = 1;
while (1) {
  $chld = 0;
  reap();
  finish_done();
  # Output to the agent: blocking writes (the agent reads promptly); retried on EINTR.
  while (length $to_agent) {
    my $w = syswrite(STDOUT, $to_agent);
    if (defined $w) { substr($to_agent, 0, $w, ''); next; }
    next if $!{EINTR};
    exit 0;    # the agent is gone
  }
  exit 0 unless $stdin_open;
  my ($rin, $win) = ('', '');
  vec($rin, 0, 1) = 1;
  vec($rin, $_, 1) = 1 for keys %rd;
  vec($win, $_, 1) = 1 for keys %wr;
  # A child whose pipes closed but which is not reaped yet is exiting: look again very soon. Children
  # still running are found by SIGCHLD (which interrupts select); the timeout only covers a signal
  # that arrived just before select was entered.
  my $drained = grep { $_->{fds} <= 0 && !defined $_->{status} } values %req;
  my $timeout = $drained ? 0.002 : (grep { $_->{kind} eq 'C' } values %req) ? 0.1 : (%req ? 5 : undef);
  my ($rout, $wout) = ($rin, $win);
  my $n = select($rout, $wout, undef, $timeout);
  next if $n <= 0;
  for my $fd (keys %wr) {
    next unless vec($wout, $fd, 1);
    my $e = $wr{$fd};
    my $w = syswrite($e->[0], $e->[1]);
    if (defined $w) { substr($e->[1], 0, $w, '') }
    elsif (!$!{EAGAIN} && !$!{EINTR}) { $e->[1] = '' }    # the child does not read its stdin
    if (!length $e->[1]) { close $e->[0]; delete $wr{$fd} }
  }
  for my $fd (keys %rd) {
    next unless vec($rout, $fd, 1);
    my $e = $rd{$fd};
    my $r = $req{$e->[1]};
    my $buf = '';
    my $got = sysread($e->[0], $buf, 65536);
    next if !defined $got && $!{EINTR};
    if (!$got) { close_fd($fd); next; }
    next unless $r;
    if ($e->[2] eq 'ready') {
      $r->{ready} .= $buf;
      if ($r->{ready} =~ /^(\d+) (\d+)\n/) { send_line('R', $e->[1], $1, $2); close_fd($fd); }
    } else {
      $r->{$e->[2]} .= $buf;
    }
  }
  if (vec($rout, 0, 1)) {
    my $got = sysread(STDIN, $in, 65536, length $in);
    if (!defined $got) { next if $!{EINTR}; $stdin_open = 0; next; }
    if ($got == 0) { $stdin_open = 0; next; }
    while ((my $nl = index($in, "\n")) >= 0) {
      my $line = substr($in, 0, $nl + 1, '');
      chop $line;
      handle_request($line);
    }
  }
}
