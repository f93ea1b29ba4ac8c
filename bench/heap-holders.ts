/**
 * What each holder of a heap snapshot retains — the measuring tool behind bench/README.md's "memory
 * per object" (scale section); Chrome DevTools' "retained size", computed for named holders of a
 * Berth server instead of one object at a time.
 *
 *   node --max-old-space-size=12000 --import tsx bench/heap-holders.ts FILE.heapsnapshot
 *   (take the snapshot with `berth server` under `--heapsnapshot-signal=SIGUSR2`, then `kill -USR2`)
 *
 * Retained by a set of holders = bytes reachable from the roots − bytes reachable with those objects
 * removed. Weak edges are not followed, nor are a WeakMap's table edges (V8 records the table as holding
 * its keys; the key → value edge it adds keeps ephemeron semantics). Holders are removed one after
 * another in the order printed, so an object two holders share counts once, for the first: the
 * per-pod holders first, the watch hub's ring (bounded, whatever the pod count) last.
 * Also printed: self size by node type and constructor, decoded Kubernetes objects by kind, pending
 * timers by their callback's closure, and repeated string contents (what interning could save).
 * The whole file is read into memory (a 700 MB snapshot needs ~6 GB); a few minutes per snapshot.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const file = process.argv[2];
if (!file) throw new Error('usage: heap-holders.ts FILE.heapsnapshot');

const fd = openSync(file, 'r');
const size = fstatSync(fd).size;
const buf = Buffer.allocUnsafe(size);
for (let off = 0; off < size;) off += readSync(fd, buf, off, Math.min(1 << 30, size - off), off);
closeSync(fd);

// The file is one JSON object too big for JSON.parse: the small "snapshot" header is parsed, the
// number arrays and the string table are scanned.
const nodesAt = buf.indexOf('"nodes":[', 0, 'latin1');
const meta = JSON.parse(buf.subarray(0, nodesAt).toString().replace(/,\s*$/, '') + '}').snapshot;
const NF: string[] = meta.meta.node_fields;
const EF: string[] = meta.meta.edge_fields;
const nodeTypes: string[] = meta.meta.node_types[0];
const edgeTypes: string[] = meta.meta.edge_types[0];

function parseNumbers(start: number, count: number): { arr: Float64Array; end: number } {
  const arr = new Float64Array(count);
  let p = start, n = 0, cur = 0, inNumber = false;
  for (; n < count; p++) {
    const c = buf[p]!;
    if (c >= 48 && c <= 57) { cur = cur * 10 + (c - 48); inNumber = true; continue; }
    if (inNumber) { arr[n++] = cur; cur = 0; inNumber = false; }
    if (c === 93) break;
  }
  return { arr, end: p };
}

const N: number = meta.node_count;
const NL = NF.length, EL = EF.length;
const nodes = parseNumbers(nodesAt + 9, N * NL);
const edgesAt = buf.indexOf('"edges":[', nodes.end, 'latin1');
const edges = parseNumbers(edgesAt + 9, meta.edge_count * EL);
const strings: string[] = [];
for (let p = buf.indexOf('"strings":[', edges.end, 'latin1') + 11; ;) {
  while (buf[p] !== 34 && buf[p] !== 93) p++;
  if (buf[p] === 93) break;
  const s = p++;
  while (buf[p] !== 34) p += buf[p] === 92 ? 2 : 1;
  strings.push(JSON.parse(buf.toString('utf8', s, ++p)));
}

const fType = NF.indexOf('type'), fName = NF.indexOf('name'), fSelf = NF.indexOf('self_size'), fEdges = NF.indexOf('edge_count');
const eType = EF.indexOf('type'), eName = EF.indexOf('name_or_index'), eTo = EF.indexOf('to_node');
const firstEdge = new Uint32Array(N + 1);
for (let i = 0, e = 0; i < N; i++) { firstEdge[i] = e; e += nodes.arr[i * NL + fEdges]!; firstEdge[i + 1] = e; }
const typeOf = (i: number) => nodeTypes[nodes.arr[i * NL + fType]!]!;
const nameOf = (i: number) => strings[nodes.arr[i * NL + fName]!]!;
const selfOf = (i: number) => nodes.arr[i * NL + fSelf]!;
const edgeName = (e: number) => {
  const t = edgeTypes[edges.arr[e * EL + eType]!]!;
  const raw = edges.arr[e * EL + eName]!;
  return t === 'element' || t === 'hidden' ? raw : strings[raw]!;
};
const target = (e: number) => edges.arr[e * EL + eTo]! / NL;
const WEAK = edgeTypes.indexOf('weak');

/** The object `i` refers to by property (or context variable) `name`, or -1. */
function prop(i: number, name: string): number {
  for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e++) if (edges.arr[e * EL + eType] !== WEAK && edgeName(e) === name) return target(e);
  return -1;
}

const weakTables = new Set<number>();
for (let i = 0; i < N; i++) {
  if (typeOf(i) === 'object' && (nameOf(i) === 'WeakMap' || nameOf(i) === 'WeakSet')) {
    const t = prop(i, 'table');
    if (t >= 0) weakTables.add(t);
  }
}

/** Bytes reachable from the root without passing through `excluded`. */
function reach(excluded: Set<number>): { bytes: number; seen: Uint8Array } {
  const seen = new Uint8Array(N);
  const stack = new Uint32Array(N);
  let sp = 0, bytes = 0;
  stack[sp++] = 0;
  seen[0] = 1;
  while (sp > 0) {
    const i = stack[--sp]!;
    bytes += selfOf(i);
    if (weakTables.has(i)) continue;
    for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e++) {
      if (edges.arr[e * EL + eType] === WEAK) continue;
      const to = target(e);
      if (seen[to] || excluded.has(to)) continue;
      seen[to] = 1;
      stack[sp++] = to;
    }
  }
  return { bytes, seen };
}

const MB = (b: number) => (b / 1e6).toFixed(1).padStart(7);
const all = reach(new Set());
const live = (i: number) => all.seen[i] === 1;
console.log(`${file}: ${N} nodes, ${MB(all.bytes)} MB reachable`);

const byType = new Map<string, number>();
const byCtor = new Map<string, { bytes: number; count: number }>();
for (let i = 0; i < N; i++) {
  if (!live(i)) continue;
  const t = typeOf(i);
  byType.set(t, (byType.get(t) ?? 0) + selfOf(i));
  const key = ['object', 'closure', 'native', 'hidden', 'array'].includes(t) ? `${t}:${nameOf(i)}` : t;
  const v = byCtor.get(key) ?? { bytes: 0, count: 0 };
  v.bytes += selfOf(i);
  v.count++;
  byCtor.set(key, v);
}
console.log('self size by node type (MB): ' + [...byType].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([t, b]) => `${t} ${MB(b).trim()}`).join(', '));
console.log('largest constructors (self MB, count):');
for (const [k, v] of [...byCtor].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 12)) console.log(`  ${MB(v.bytes)} ${String(v.count).padStart(9)}  ${k.slice(0, 80)}`);

// Decoded Kubernetes objects (apiVersion + kind + metadata), by kind: copies show as counts above the
// number of objects the store holds.
const kinds = new Map<string, number>();
for (let i = 0; i < N; i++) {
  if (!live(i) || typeOf(i) !== 'object' || nameOf(i) !== 'Object') continue;
  const kind = prop(i, 'kind');
  if (kind >= 0 && prop(i, 'apiVersion') >= 0 && prop(i, 'metadata') >= 0) kinds.set(nameOf(kind), (kinds.get(nameOf(kind)) ?? 0) + 1);
}
console.log('decoded objects by kind: ' + [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `${k} ${n}`).join(', '));

// Pending timers by the closure they run (its context's variable names say whose it is).
const timers = new Map<string, number>();
for (let i = 0; i < N; i++) {
  if (!live(i) || typeOf(i) !== 'object' || nameOf(i) !== 'Timeout') continue;
  const cb = prop(i, '_onTimeout');
  let label = cb >= 0 ? `${nameOf(cb) || '(anonymous)'}` : '?';
  const ctx = cb >= 0 ? prop(cb, 'context') : -1;
  if (ctx >= 0) {
    const vars: string[] = [];
    for (let e = firstEdge[ctx]!; e < firstEdge[ctx + 1]!; e++) if (edgeTypes[edges.arr[e * EL + eType]!] === 'context') vars.push(String(edgeName(e)));
    label += ` {${vars.slice(0, 8).join(', ')}}`;
  }
  timers.set(label, (timers.get(label) ?? 0) + 1);
}
console.log('pending timers by callback: ' + [...timers].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, n]) => `${n} × ${k}`).join('; '));

// Short strings whose contents another live string repeats: the ceiling of what interning could save
// (long ones are left out: a snapshot keeps only the start of a long string, so their prefixes repeat).
const contents = new Map<string, number>();
let stringBytes = 0, repeatedBytes = 0;
for (let i = 0; i < N; i++) {
  if (!live(i) || typeOf(i) !== 'string') continue;
  stringBytes += selfOf(i);
  if (selfOf(i) > 256) continue;
  const n = contents.get(nameOf(i));
  if (n !== undefined) repeatedBytes += selfOf(i);
  contents.set(nameOf(i), (n ?? 0) + 1);
}
console.log(`strings ${MB(stringBytes).trim()} MB, of which short repeats of another string's contents ${MB(repeatedBytes).trim()} MB; most repeated: `
  + [...contents].filter(([, n]) => n > 1000).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([s, n]) => `${n} × ${JSON.stringify(s.slice(0, 40))}`).join(', '));

// Holders, per-pod ones first, then everything the ring alone keeps.
const byName = (ctor: string) => {
  const out: number[] = [];
  for (let i = 0; i < N; i++) if (live(i) && typeOf(i) === 'object' && nameOf(i) === ctor) out.push(i);
  return out;
};
const holders: Array<[string, number[]]> = [];
for (const wc of byName('WatchCache')) {
  holders.push(['watch cache: values by key (index) and list snapshots', [prop(wc, 'index'), prop(wc, 'snapshots')].filter((x) => x >= 0)]);
}
const informers = new Map<string, number[]>();
for (const inf of byName('SharedInformer')) {
  const ref = prop(inf, 'ref');
  const resource = ref >= 0 ? prop(ref, 'resource') : -1;
  const cache = prop(inf, 'cache');
  if (resource < 0 || cache < 0) continue;
  const list = informers.get(nameOf(resource)) ?? [];
  list.push(cache);
  informers.set(nameOf(resource), list);
}
for (const r of ['pods', 'nodes', 'leases']) if (informers.has(r)) holders.push([`informers of ${r} (${informers.get(r)!.length}): their caches`, informers.get(r)!]);
// The scheduler's snapshot holds the pods the informers hold (NodeInfo's pods): what it retains after them is its own part.
for (const [ctor, what] of [['Snapshot', 'scheduler snapshot (after the informers)'], ['NodeGraph', 'node authorizer graph'], ['EventRecorder', 'event recorders']]) {
  const ids = byName(ctor);
  if (ids.length) holders.push([what, ids]);
}
const rest = [...informers].filter(([r]) => !['pods', 'nodes', 'leases'].includes(r)).flatMap(([, c]) => c);
holders.push([`the other informers (${rest.length})`, rest]);
for (const hub of byName('WatchHub')) {
  const ring = prop(hub, 'ring');
  if (ring < 0) continue;
  let events = 0;
  for (let e = firstEdge[ring]!; e < firstEdge[ring + 1]!; e++) if (edgeTypes[edges.arr[e * EL + eType]!] === 'element') events++;
  holders.push([`watch hub ring (${events} events)`, [ring]]);
}
console.log('retained (MB), each holder after those above it:');
const removed = new Set<number>();
let before = all.bytes;
for (const [label, ids] of holders) {
  for (const id of ids) removed.add(id);
  const left = reach(removed).bytes;
  console.log(`  ${MB(before - left)}  ${label}`);
  before = left;
}
console.log(`  ${MB(before)}  everything else (code, modules, the rest of the server)`);
