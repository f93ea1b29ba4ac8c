/**
 * Connecting to a TCP port "in the pod", as the kubelet's port-forward does: to localhost inside
 * the pod's network namespace (IPv4, then IPv6). A Node process cannot open a socket in another
 * namespace, so each connection is a small relay, `nsenter --net=NETNS perl -e RELAY PORT`, that
 * connects there and copies its stdin/stdout to and from the socket (perl is already an agent
 * dependency: the process runtime's shim). Pods on the host network are dialled directly.
 *
 * The relay reports `connected` on stderr once connected, or the connect errors and a non-zero
 * exit status; half-closes are passed on (stdin EOF → shutdown(SHUT_WR)); it exits when the pod
 * side closes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Duplex } from 'node:stream';

/** Where a pod's ports are: its network namespace, or the host's when `netnsPath` is undefined. */
export interface PodNetworkTarget {
  netnsPath?: string;
}

const RELAY = String.raw`
use strict; use warnings;
use IO::Socket::IP; use IO::Select; use Socket qw(SHUT_WR);
$SIG{PIPE} = 'IGNORE';
my $port = shift;
my ($s, @errs);
for my $h ('127.0.0.1', '::1') {
  $s = IO::Socket::IP->new(PeerHost => $h, PeerPort => $port, Proto => 'tcp', Timeout => 10);
  last if $s;
  my $why = $@; $why =~ s/^IO::Socket::IP: //; $why =~ s/\s+$//;
  push @errs, ($h eq '::1' ? "IPv6: dial [::1]" : "IPv4: dial $h") . ":$port: $why";
}
if (!$s) { print STDERR join(', ', @errs); exit 3; }
binmode STDIN; binmode STDOUT; binmode $s;
syswrite STDERR, "connected\n";
my $sel = IO::Select->new(\*STDIN, $s);
my $buf;
while (my @ready = $sel->can_read) {
  for my $fh (@ready) {
    my $fromPod = fileno($fh) == fileno($s);
    my $n = sysread($fh, $buf, 65536);
    if (!$n) {
      exit 0 if $fromPod;
      $sel->remove(\*STDIN); shutdown($s, SHUT_WR); next;
    }
    my $out = $fromPod ? \*STDOUT : $s;
    for (my $off = 0; $off < $n;) {
      my $w = syswrite($out, $buf, $n - $off, $off);
      exit 0 unless defined $w;
      $off += $w;
    }
  }
}
`;

/** A relay child seen as one Duplex; destroying it kills the child. */
class RelayConnection extends Duplex {
  constructor(private readonly child: ChildProcess) {
    super({ allowHalfOpen: true });
    child.stdout!.on('data', (d: Buffer) => { if (!this.push(d)) child.stdout!.pause(); });
    child.stdout!.on('end', () => this.push(null));
    child.stdin!.on('error', () => {}); // EPIPE once the relay exited: 'close' reports it
  }

  override _read(): void { this.child.stdout!.resume(); }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.child.stdin!.write(chunk, (err) => cb(err));
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.child.stdin!.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    cb(err);
  }
}

function dialInNetns(netnsPath: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${netnsPath}`, 'perl', '-e', RELAY, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let connected = false;
    child.on('error', (err) => reject(err));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!connected && stderr.includes('connected\n')) {
        connected = true;
        stderr = stderr.replace('connected\n', '');
        resolve(new RelayConnection(child));
      }
    });
    child.on('close', (code) => {
      if (!connected) reject(new Error(`failed to connect to localhost:${port} inside namespace "${netnsPath}", ${stderr.trim() || `relay exited with status ${code}`}`));
    });
  });
}

function connectOnce(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

async function dialHost(port: number): Promise<Duplex> {
  const errs: string[] = [];
  for (const [family, host, shown] of [['IPv4', '127.0.0.1', '127.0.0.1'], ['IPv6', '::1', '[::1]']]) {
    try {
      return await connectOnce(host, port);
    } catch (err) {
      errs.push(`${family}: dial ${shown}:${port}: ${(err as Error).message}`);
    }
  }
  throw new Error(`failed to connect to localhost:${port} on the host network, ${errs.join(', ')}`);
}

/** Connects to `port` on the pod's localhost; resolves once connected, rejects with why not. */
export function dialPod(target: PodNetworkTarget, port: number): Promise<Duplex> {
  return target.netnsPath ? dialInNetns(target.netnsPath, port) : dialHost(port);
}
