/**
 * What cached pods repeat of each other, kept once: the informers' pods (the API server's controllers
 * and node authorizer keep every pod of the cluster decoded; 150,000 of them in bench scale).
 *
 * Strings: V8's JSON parser shares values of up to 10 characters; longer ones are a new string in
 * every decoded pod — "default-scheduler", "ClusterFirst", "/dev/termination-log", timestamps (pods
 * created within a second share them), the owner's name, the image ID. They are looked up by path,
 * not by walking every string of the pod (that cost 8–47 µs a pod on the API server's thread): unique
 * values (name, uid, IPs, container IDs) would only fill the table.
 *
 * Parts: the tolerations DefaultTolerationSeconds adds, the ServiceAccount token volume's projection,
 * a template's resources and command, empty objects (annotations, securityContext, lastState),
 * conditions and container states set in the same second, a ReplicaSet's labels and ownerReferences
 * are taken from an earlier pod when equal to it, key order included (so even the JSON is the same).
 * A part new to its table has its strings interned once.
 *
 * A bench scale pod (Running, trimmed of managedFields) takes ~1.1 KB of heap instead of ~3.9 KB;
 * interning it costs ~8 µs of CPU decoded fresh (a create, a status write), ~5 µs as a clone of an
 * interned one (a read-modify-write's result), ~2.5 µs when its parts are already shared (a binding):
 * a fifth to a quarter of its JSON.parse (load ~7; bench/README.md, scale, has the figures).
 *
 * In place: a value is replaced by an equal one, so the object stays what it was for everyone who
 * shares it (the watch event's decode, peer informers) — nothing observable changes, no copy is made.
 * Informers' objects are never mutated (informer.ts: clone first), which is what makes a part
 * shared by many pods safe. The tables are bounded and start again when full, so values that do not
 * repeat cannot grow them without limit (a value a cached object holds stays alive with that object).
 */
import type { KubeObject } from '../apis/object.ts';

const INTERN_MAX = 65_536;
let table = new Map<string, string>();

/** The table's string equal to `s` (`s` itself the first time); values of ≤ 10 characters as they are. */
export function intern<T>(s: T): T {
  if (typeof s !== 'string' || s.length <= 10 || s.length > 256) return s;
  const had = table.get(s);
  if (had !== undefined) return had as T;
  if (table.size >= INTERN_MAX) table = new Map();
  table.set(s, s);
  return s;
}

type Obj = Record<string, any>;

/** Keys of the objects sameJson is comparing, one stretch per nesting level (no array per compare). */
const scratch: string[] = [];
let top = 0;

/** Equal JSON values, key order included (JSON.stringify would give the same text). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const base = top;
  try {
    for (const k in a as Obj) scratch[top++] = k;
    let i = base;
    for (const k in b as Obj) if (i === top || scratch[i++] !== k) return false;
    if (i !== top) return false;
    for (let j = base; j < i; j++) {
      const k = scratch[j]!;
      if (!sameJson((a as Obj)[k], (b as Obj)[k])) return false;
    }
    return true;
  } finally {
    top = base;
  }
}

/** Recent distinct values of one place in a pod (most recent first): what the next pod's is compared with. */
type Slot = unknown[];
const RECENT = 4;
const slot = (): Slot => [];

/**
 * An earlier pod's value equal to `v` in `recent` (`v` itself the first time: then its strings are
 * interned, once, as the value other pods will share).
 */
function shared<T>(recent: Slot, v: T): T {
  if (v === undefined || v === null || typeof v !== 'object') return v;
  for (let i = 0; i < recent.length; i++) if (recent[i] === v) return v;
  for (let i = 0; i < recent.length; i++) if (sameJson(recent[i], v)) return recent[i] as T;
  if (recent.length >= RECENT) recent.pop();
  recent.unshift(v);
  deep(v);
  return v;
}

/** Interns every string of a (small) JSON value in place. */
function deep(v: unknown): void {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'string') v[i] = intern(x);
      else if (typeof x === 'object' && x !== null) deep(x);
    }
  } else if (typeof v === 'object' && v !== null) {
    const o = v as Obj;
    for (const k in o) {
      const x = o[k];
      if (typeof x === 'string') o[k] = intern(x);
      else if (typeof x === 'object' && x !== null) deep(x);
    }
  }
}

/** By key (a ReplicaSet's pods: their generateName), the labels and ownerReferences they share. */
const BY_KEY_MAX = 4096;
let byKey = new Map<string, { labels: Slot; ownerReferences: Slot }>();

function sharedByKey(key: string, m: Obj): void {
  let e = byKey.get(key);
  if (!e) {
    if (byKey.size >= BY_KEY_MAX) byKey = new Map();
    byKey.set(key, (e = { labels: [], ownerReferences: [] }));
  }
  if (m.labels !== undefined) m.labels = shared(e.labels, m.labels);
  if (m.ownerReferences !== undefined) m.ownerReferences = shared(e.ownerReferences, m.ownerReferences);
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Replaces `o[k]` by its interned string for each of `keys`. Written whether or not it is the same
 * string already: JavaScript cannot tell two equal strings apart (=== compares contents). */
function fields(o: unknown, keys: readonly string[]): void {
  if (!isObj(o)) return;
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v.length > 10) o[k] = intern(v);
  }
}

/** `fields` on each object of an array. */
function each(a: unknown, keys: readonly string[]): void {
  if (Array.isArray(a)) for (const o of a) fields(o, keys);
}

const META = ['generateName', 'creationTimestamp', 'deletionTimestamp'] as const;
const SPEC = ['dnsPolicy', 'schedulerName', 'preemptionPolicy', 'restartPolicy', 'serviceAccountName', 'serviceAccount', 'priorityClassName', 'nodeName', 'runtimeClassName'] as const;
const CONTAINER = ['name', 'image', 'imagePullPolicy', 'terminationMessagePath', 'terminationMessagePolicy', 'workingDir'] as const;
const MOUNT = ['mountPath', 'subPath'] as const;
const STATUS = ['phase', 'qosClass', 'hostIP', 'startTime', 'nominatedNodeName', 'reason', 'message'] as const;
const CONTAINER_STATUS = ['name', 'image', 'imageID'] as const;

/** Parts a template gives every pod alike, each with its recent values. */
const CONTAINER_SHARED = ['command', 'args', 'resources', 'env', 'envFrom', 'ports', 'securityContext', 'readinessProbe', 'livenessProbe', 'startupProbe', 'lifecycle'].map((k) => [k, slot()] as const);
const SPEC_SHARED = ['tolerations', 'securityContext', 'nodeSelector', 'affinity', 'topologySpreadConstraints', 'imagePullSecrets', 'dnsConfig', 'readinessGates', 'overhead'].map((k) => [k, slot()] as const);
const ANNOTATIONS = slot(), PROJECTED = slot(), CONDITIONS = slot(), STATE = slot(), LAST_STATE = slot();

function container(c: unknown): void {
  if (!isObj(c)) return;
  fields(c, CONTAINER);
  each(c.volumeMounts, MOUNT);
  for (const [k, recent] of CONTAINER_SHARED) if (c[k] !== undefined) c[k] = shared(recent, c[k]);
}

/** The ServiceAccount token volume every pod gets: the whole projection (the volume's name is the pod's own). */
function volume(v: unknown): void {
  if (isObj(v) && v.projected !== undefined) v.projected = shared(PROJECTED, v.projected);
}

function containerStatus(s: unknown): void {
  if (!isObj(s)) return;
  fields(s, CONTAINER_STATUS);
  if (s.state !== undefined) s.state = shared(STATE, s.state);
  if (s.lastState !== undefined) s.lastState = shared(LAST_STATE, s.lastState);
}

/**
 * Interns, in place, the repeated strings and parts of a pod (see the file comment); returns the pod.
 * Anything not shaped as expected is left as it is.
 */
export function internPod(pod: KubeObject): KubeObject {
  const m = pod?.metadata;
  if (isObj(m)) {
    fields(m, META);
    if (m.annotations !== undefined) m.annotations = shared(ANNOTATIONS, m.annotations);
    if (typeof m.generateName === 'string') sharedByKey(m.generateName, m);
    else { if (m.labels !== undefined) deep(m.labels); if (m.ownerReferences !== undefined) deep(m.ownerReferences); }
  }
  const spec = pod?.spec;
  if (isObj(spec)) {
    fields(spec, SPEC);
    if (Array.isArray(spec.containers)) for (const c of spec.containers) container(c);
    if (Array.isArray(spec.initContainers)) for (const c of spec.initContainers) container(c);
    if (Array.isArray(spec.volumes)) for (const v of spec.volumes) volume(v);
    for (const [k, recent] of SPEC_SHARED) if (spec[k] !== undefined) spec[k] = shared(recent, spec[k]);
  }
  const status = pod?.status;
  if (isObj(status)) {
    fields(status, STATUS);
    each(status.hostIPs, ['ip']);
    if (status.conditions !== undefined) status.conditions = shared(CONDITIONS, status.conditions);
    if (Array.isArray(status.containerStatuses)) for (const s of status.containerStatuses) containerStatus(s);
    if (Array.isArray(status.initContainerStatuses)) for (const s of status.initContainerStatuses) containerStatus(s);
  }
  return pod;
}
