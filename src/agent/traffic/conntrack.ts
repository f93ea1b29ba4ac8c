/**
 * Reads the kernel's connection tracking table (/proc/net/nf_conntrack, the same table `conntrack
 * -L` prints) into flows: the original tuple (who opened it, to where) and the reply tuple (who
 * answered) — a reply source that differs from the original destination is a DNAT, i.e. a
 * connection to a Service answered by one of its pods. Weave Scope's probe reads the same table
 * (its endpoint/conntrack.go, through the conntrack tool).
 *
 * The table is read in 4 KB slices (the kernel's seq_file hands no more per read) into one reused
 * buffer and parsed as bytes: no text of the whole table, no string per field, no object per flow —
 * one Flow is filled in place and handed to the visitor, and a loopback flow (most of a busy host's
 * table: the node's own API connections) is dropped before any string is made. Reading the table
 * as text and splitting it made ~20 strings a line: at 4,000 flows every 2 s that garbage, not the
 * parsing, was most of what tracking cost the agent (bench `metrics`).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { threadCpuMs } from '../metrics/thread-cpu.ts';

export interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface Flow {
  proto: 'tcp' | 'udp' | 'sctp';
  /** TCP state (ESTABLISHED, TIME_WAIT …); empty for UDP. */
  state: string;
  orig: Tuple;
  reply: Tuple;
  /** Bytes both ways, when the kernel counts them (net.netfilter.nf_conntrack_acct=1). */
  bytes?: number;
  /** The connection's identity (protocol and original tuple) as one string, when the scanner made it: the tracker's key, one slice of the line rather than a string built from the fields. */
  key?: string;
}

/** Receives each flow; the object is reused for the next line: copy what you keep. */
export type FlowVisitor = (flow: Flow) => void;

export interface ScanOptions {
  /** Drop flows whose original source or destination is a loopback address (they never make an edge). */
  skipLoopback?: boolean;
}

const SP = 0x20, TAB = 0x09, NL = 0x0a, EQ = 0x3d;
const ascii = (s: string) => Buffer.from(s, 'latin1');
const PROTO_NAMES: Flow['proto'][] = ['tcp', 'udp', 'sctp'];
const PROTOS = PROTO_NAMES.map(ascii);
const FAMILIES = [ascii('ipv4'), ascii('ipv6')];
/** States, so a flow's state is one of these strings rather than a new one per line. */
const STATE_NAMES = ['ESTABLISHED', 'TIME_WAIT', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSE', 'NONE', 'SYN_SENT2',
  'CLOSED', 'COOKIE_WAIT', 'COOKIE_ECHOED', 'SHUTDOWN_SENT', 'SHUTDOWN_RECD', 'SHUTDOWN_ACK_SENT', 'HEARTBEAT_SENT', 'HEARTBEAT_ACKED'];
const STATES = STATE_NAMES.map(ascii);
/** IPv6 loopback as the /proc file writes it (in full) and as `conntrack -L` does. */
const LOOP6 = [ascii('0000:0000:0000:0000:0000:0000:0000:0001'), ascii('::1')];

function equals(b: Buffer, s: number, e: number, word: Buffer): boolean {
  if (e - s !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (b[s + i] !== word[i]) return false;
  return true;
}

function isLoopback(b: Buffer, s: number, e: number): boolean {
  if (e - s >= 4 && b[s] === 0x31 && b[s + 1] === 0x32 && b[s + 2] === 0x37 && b[s + 3] === 0x2e) return true; // 127.
  return equals(b, s, e, LOOP6[0]) || equals(b, s, e, LOOP6[1]);
}

/** Where `byte` is in b[s, e), or -1. */
function indexIn(b: Buffer, byte: number, s: number, e: number): number {
  for (let i = s; i < e; i++) if (b[i] === byte) return i;
  return -1;
}

/** A decimal number in b[s, e); NaN when it is not one. */
function decimal(b: Buffer, s: number, e: number): number {
  if (s >= e) return NaN;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

const enum Key { Src, Dst, Sport, Dport, Bytes, Other }

function keyOf(b: Buffer, s: number, eq: number): Key {
  const n = eq - s;
  if (n === 3 && b[s] === 0x73 && b[s + 1] === 0x72 && b[s + 2] === 0x63) return Key.Src; // src
  if (n === 3 && b[s] === 0x64 && b[s + 1] === 0x73 && b[s + 2] === 0x74) return Key.Dst; // dst
  if (n === 5 && b[s + 1] === 0x70 && b[s + 2] === 0x6f && b[s + 3] === 0x72 && b[s + 4] === 0x74) {
    if (b[s] === 0x73) return Key.Sport; // sport
    if (b[s] === 0x64) return Key.Dport; // dport
  }
  if (n === 5 && b[s] === 0x62 && b[s + 1] === 0x79 && b[s + 2] === 0x74 && b[s + 3] === 0x65 && b[s + 4] === 0x73) return Key.Bytes; // bytes
  return Key.Other;
}

/**
 * Parses the lines of /proc/net/nf_conntrack (`ipv4 2 tcp 6 431999 ESTABLISHED src=… dst=… sport=…
 * dport=… [packets=… bytes=…] src=… … [ASSURED] mark=0 use=2`) or of `conntrack -L` (the same without
 * the leading family columns) as they arrive in chunks; protocols without ports (ICMP) and anything
 * unreadable are skipped.
 */
export class ConntrackScanner {
  private carry = Buffer.alloc(512);
  private carried = 0;
  /** Field offsets of the line being parsed: orig src, orig dst, reply src, reply dst (start, end). */
  private readonly at = new Int32Array(8);
  private readonly flow: Flow = { proto: 'tcp', state: '', orig: { src: '', dst: '', sport: 0, dport: 0 }, reply: { src: '', dst: '', sport: 0, dport: 0 }, key: undefined };
  /** Lines parsed so far (the table's entries), flows handed to the visitor, and whether any carried byte counters. */
  lines = 0;
  flows = 0;
  counted = false;

  constructor(private readonly visit: FlowVisitor, private readonly opts: ScanOptions = {}) {}

  /** Parses the whole lines in b[start, end); a partial last line waits for the next chunk. */
  push(b: Buffer, start = 0, end = b.length): void {
    let s = start;
    if (this.carried > 0) {
      const nl = b.indexOf(NL, s);
      if (nl < 0 || nl >= end) { this.keep(b, s, end); return; }
      this.keep(b, s, nl);
      this.line(this.carry, 0, this.carried);
      this.carried = 0;
      s = nl + 1;
    }
    for (;;) {
      const nl = b.indexOf(NL, s);
      if (nl < 0 || nl >= end) break;
      this.line(b, s, nl);
      s = nl + 1;
    }
    if (s < end) this.keep(b, s, end);
  }

  /** The last line, when the input does not end with a newline. */
  end(): void {
    if (this.carried > 0) this.line(this.carry, 0, this.carried);
    this.carried = 0;
  }

  private keep(b: Buffer, s: number, e: number): void {
    const need = this.carried + (e - s);
    if (need > this.carry.length) {
      const bigger = Buffer.alloc(Math.max(need, this.carry.length * 2));
      this.carry.copy(bigger, 0, 0, this.carried);
      this.carry = bigger;
    }
    b.copy(this.carry, this.carried, s, e);
    this.carried = need;
  }

  /** The line's tokenizer: runs of blanks separate tokens; the current one is b[ts, te). */
  private i = 0;
  private e = 0;
  private ts = 0;
  private te = 0;

  private tok(b: Buffer): boolean {
    let i = this.i;
    const e = this.e;
    while (i < e && (b[i] === SP || b[i] === TAB)) i++;
    if (i >= e) { this.i = i; return false; }
    this.ts = i;
    while (i < e && b[i] !== SP && b[i] !== TAB) i++;
    this.te = this.i = i;
    return true;
  }

  private line(b: Buffer, s: number, e: number): void {
    this.lines++;
    this.i = s;
    this.e = e;
    if (!this.tok(b)) return;
    if (equals(b, this.ts, this.te, FAMILIES[0]) || equals(b, this.ts, this.te, FAMILIES[1])) {
      if (!this.tok(b) || !this.tok(b)) return; // the family's number, then the protocol
    }
    let proto: Flow['proto'] | undefined;
    // Indexed loops, no destructuring: an iterator per line would be most of the scan's garbage.
    for (let p = 0; p < PROTOS.length; p++) if (equals(b, this.ts, this.te, PROTOS[p])) proto = PROTO_NAMES[p];
    if (!proto) return;
    if (!this.tok(b) || !this.tok(b)) return; // protocol number, timeout
    if (!this.tok(b)) return;
    let state = '';
    if (indexIn(b, EQ, this.ts, this.te) < 0) {
      for (let k = 0; k < STATES.length; k++) if (equals(b, this.ts, this.te, STATES[k])) { state = STATE_NAMES[k]; break; }
      if (!state) state = b.toString('latin1', this.ts, this.te);
      if (!this.tok(b)) return;
    }
    const at = this.at;
    at.fill(-1);
    let tuple = -1;
    let sport0 = NaN, dport0 = NaN, sport1 = NaN, dport1 = NaN;
    let dport0End = -1;
    let bytes = -1;
    do {
      const ts = this.ts, te = this.te;
      const eq = indexIn(b, EQ, ts, te);
      if (eq < 0) continue;
      const k = keyOf(b, ts, eq);
      if (k === Key.Src) {
        if (++tuple > 1) break;
        at[tuple * 4] = eq + 1; at[tuple * 4 + 1] = te;
      } else if (tuple < 0) {
        continue;
      } else if (k === Key.Dst) {
        at[tuple * 4 + 2] = eq + 1; at[tuple * 4 + 3] = te;
      } else if (k === Key.Sport) {
        if (tuple === 0) sport0 = decimal(b, eq + 1, te); else sport1 = decimal(b, eq + 1, te);
      } else if (k === Key.Dport) {
        if (tuple === 0) { dport0 = decimal(b, eq + 1, te); dport0End = te; } else dport1 = decimal(b, eq + 1, te);
      } else if (k === Key.Bytes) {
        const v = decimal(b, eq + 1, te);
        if (Number.isFinite(v)) bytes = (bytes < 0 ? 0 : bytes) + v;
      }
    } while (this.tok(b));
    for (let j = 0; j < 8; j++) if (at[j] < 0 || (j % 2 === 1 && at[j] <= at[j - 1])) return;
    if (!Number.isFinite(sport0) || !Number.isFinite(dport0) || !Number.isFinite(sport1) || !Number.isFinite(dport1)) return;
    if (this.opts.skipLoopback && (isLoopback(b, at[0], at[1]) || isLoopback(b, at[2], at[3]))) return;
    const f = this.flow;
    f.proto = proto;
    f.state = state;
    f.orig.src = b.toString('latin1', at[0], at[1]); f.orig.dst = b.toString('latin1', at[2], at[3]);
    f.orig.sport = sport0; f.orig.dport = dport0;
    f.reply.src = b.toString('latin1', at[4], at[5]); f.reply.dst = b.toString('latin1', at[6], at[7]);
    f.reply.sport = sport1; f.reply.dport = dport1;
    if (bytes >= 0) { f.bytes = bytes; this.counted = true; } else delete f.bytes;
    // The original tuple's text (`src=… dst=… sport=… dport=…`, counters after it left out: they move).
    const tupleText = dport0End > at[0] ? b.toString('latin1', at[0], dport0End) : undefined;
    f.key = tupleText === undefined ? undefined : proto === 'tcp' ? tupleText : `${proto} ${tupleText}`;
    this.flows++;
    this.visit(f);
  }
}

const copyFlow = (f: Flow): Flow => ({ proto: f.proto, state: f.state, orig: { ...f.orig }, reply: { ...f.reply }, ...(f.key !== undefined ? { key: f.key } : {}), ...(f.bytes !== undefined ? { bytes: f.bytes } : {}) });

/** One line, as a new Flow; undefined for protocols without ports (ICMP) and anything unreadable. */
export function parseConntrackLine(line: string): Flow | undefined {
  let out: Flow | undefined;
  const sc = new ConntrackScanner((f) => { out = copyFlow(f); });
  sc.push(Buffer.from(line, 'latin1'));
  sc.end();
  return out;
}

/** Every flow of a table's text, as new objects (tests, tools; the agent streams: readConntrack). */
export function parseConntrack(text: string, opts: ScanOptions = {}): Flow[] {
  const out: Flow[] = [];
  const sc = new ConntrackScanner((f) => out.push(copyFlow(f)), opts);
  sc.push(Buffer.from(text, 'latin1'));
  sc.end();
  return out;
}

/** Bytes read between two turns of the event loop: the agent's server keeps answering meanwhile. */
const SLICE_BYTES = 64 * 1024;
/** One buffer for every read: a slice is parsed (its partial last line copied) before the next read. */
let shared: Buffer | undefined;

export interface TableRead {
  /** Entries in the table. */
  entries: number;
  /** Flows handed to the visitor (loopback ones dropped). */
  flows: number;
  /** Whether the kernel counts bytes (net.netfilter.nf_conntrack_acct). */
  bytes: boolean;
  /** Milliseconds spent reading and parsing (and in the visitor), without the turns of the event loop between slices. */
  busyMs: number;
  /** The same span's CPU time of this thread (ms): the kernel's formatting of the table and the parsing, what the machine's load does not inflate. */
  cpuMs: number;
}

/**
 * Streams the host's table (the agent's network namespace: where the service proxy's DNAT happens)
 * through `visit`, loopback flows dropped. Synchronous reads into one reused buffer, yielding to the
 * event loop every SLICE_BYTES: a thread-pool round trip per 4 KB the kernel hands out (what
 * fs.readFile does) costs more CPU than the reads themselves.
 */
export async function readConntrack(visit: FlowVisitor, file = '/proc/net/nf_conntrack'): Promise<TableRead> {
  const sc = new ConntrackScanner(visit, { skipLoopback: true });
  const buf = (shared ??= Buffer.allocUnsafe(SLICE_BYTES));
  let busyMs = 0;
  let cpuMs = 0;
  let t0 = performance.now();
  let c0 = threadCpuMs();
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      let filled = 0;
      while (filled < buf.length) {
        const n = readSync(fd, buf, filled, buf.length - filled, null);
        if (n <= 0) break;
        filled += n;
      }
      sc.push(buf, 0, filled);
      if (filled < buf.length) break;
      busyMs += performance.now() - t0;
      cpuMs += threadCpuMs() - c0;
      await new Promise((r) => setImmediate(r));
      t0 = performance.now();
      c0 = threadCpuMs();
    }
    sc.end();
  } finally {
    closeSync(fd);
  }
  busyMs += performance.now() - t0;
  cpuMs += threadCpuMs() - c0;
  return { entries: sc.lines, flows: sc.flows, bytes: sc.counted, busyMs, cpuMs };
}
