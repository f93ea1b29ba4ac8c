/**
 * metadata.managedFields ↔ managers: decoding and validating the entries an object carries, the
 * identifier each manager is keyed by (name, operation, subresource, and the apiVersion for Update —
 * an applier is one manager whatever version it applies), and encoding them back in upstream's order
 * (Apply before Update, then by time, manager, apiVersion, subresource).
 * Upstream: k8s.io/apimachinery/pkg/util/managedfields/internal (managedfields.go, buildmanagerinfo.go,
 * stripmeta.go).
 */
import { FieldSet } from './field-set.ts';
import { makePath } from './path.ts';
import type { Managers } from './updater.ts';

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** Managers with their entries' times. */
export interface Managed { managers: Managers; times: Map<string, string | undefined> }

export interface ManagerInfo { manager: string; operation: 'Apply' | 'Update'; apiVersion?: string; subresource?: string }

/** The key a manager is stored under: its entry without fields and time, as JSON in Go's field order. */
export function managerIdentifier(info: ManagerInfo): string {
  const o: Record<string, string> = {};
  if (info.manager) o.manager = info.manager;
  o.operation = info.operation;
  if (info.operation === 'Update' && info.apiVersion) o.apiVersion = info.apiVersion;
  if (info.subresource) o.subresource = info.subresource;
  return JSON.stringify(o);
}

export function parseIdentifier(id: string): ManagerInfo {
  try {
    return JSON.parse(id) as ManagerInfo;
  } catch {
    return { manager: id, operation: 'Update' };
  }
}

/**
 * How conflict messages name a manager: `"kubectl"`, `"m" with subresource "status"`, and for an
 * Update manager ` using apps/v1`.
 */
export function printManager(id: string): string {
  const info = parseIdentifier(id);
  let s = JSON.stringify(info.manager ?? '');
  if (info.subresource) s += ` with subresource ${JSON.stringify(info.subresource)}`;
  if (info.operation === 'Update') s += ` using ${info.apiVersion ?? ''}`;
  return s;
}

/** Decodes managedFields; throws an Error naming the bad entry (upstream: "failed to decode managed fields"). */
export function decodeManagedFields(entries: unknown): Managed {
  const managers: Managers = new Map();
  const times = new Map<string, string | undefined>();
  if (entries === undefined || entries === null) return { managers, times };
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((e: unknown, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new Error(`managedFields[${i}] must be an object`);
    const entry = e as ManagedFieldsEntry;
    if (entry.operation !== 'Apply' && entry.operation !== 'Update') {
      throw new Error(`managedFields[${i}].operation: must be Apply or Update, got ${JSON.stringify(entry.operation)}`);
    }
    if (entry.fieldsType !== undefined && entry.fieldsType !== 'FieldsV1') {
      throw new Error(`managedFields[${i}].fieldsType: must be FieldsV1, got ${JSON.stringify(entry.fieldsType)}`);
    }
    if (entry.time !== undefined && (typeof entry.time !== 'string' || Number.isNaN(Date.parse(entry.time)))) {
      throw new Error(`managedFields[${i}].time: not a timestamp`);
    }
    let set: FieldSet;
    try {
      set = FieldSet.fromFieldsV1(entry.fieldsV1 ?? {});
    } catch (err) {
      throw new Error(`managedFields[${i}].fieldsV1: ${(err as Error).message}`);
    }
    const id = managerIdentifier({ manager: entry.manager ?? '', operation: entry.operation, apiVersion: entry.apiVersion, subresource: entry.subresource });
    if (managers.has(id)) throw new Error(`managedFields[${i}]: duplicate entry for manager ${id}`);
    managers.set(id, { set, apiVersion: entry.apiVersion ?? '', applied: entry.operation === 'Apply' });
    times.set(id, entry.time);
  });
  return { managers, times };
}

/** Entries for the managers, empty sets left out, sorted as upstream sorts them. */
export function encodeManagedFields(m: Managed): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  for (const [id, vs] of m.managers) {
    if (vs.set.empty()) continue;
    const info = parseIdentifier(id);
    const e: ManagedFieldsEntry = {};
    if (info.manager) e.manager = info.manager;
    e.operation = info.operation;
    if (vs.apiVersion) e.apiVersion = vs.apiVersion;
    const time = m.times.get(id);
    if (time) e.time = time;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = vs.set.toFieldsV1();
    if (info.subresource) e.subresource = info.subresource;
    out.push(e);
  }
  return sortManagedFields(out);
}

/** Sorts entries in place as upstream orders them: Apply before Update, then by time, manager, apiVersion, subresource. */
export function sortManagedFields(out: ManagedFieldsEntry[]): ManagedFieldsEntry[] {
  const secs = (t?: string) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  const cmp = (a = '', b = '') => (a < b ? -1 : a > b ? 1 : 0);
  return out.sort((p, q) => cmp(p.operation, q.operation) || secs(p.time) - secs(q.time) || cmp(p.manager, q.manager)
    || cmp(p.apiVersion, q.apiVersion) || cmp(p.subresource, q.subresource));
}

/** Fields the server sets, never recorded for a manager (upstream's stripMeta). */
export const STRIPPED = FieldSet.of(
  makePath('apiVersion'),
  makePath('kind'),
  makePath('metadata'),
  makePath('metadata', 'name'),
  makePath('metadata', 'namespace'),
  makePath('metadata', 'creationTimestamp'),
  makePath('metadata', 'selfLink'),
  makePath('metadata', 'uid'),
  makePath('metadata', 'clusterName'),
  makePath('metadata', 'generation'),
  makePath('metadata', 'managedFields'),
  makePath('metadata', 'resourceVersion'),
);

export function stripMeta(managers: Managers): Managers {
  const out: Managers = new Map();
  for (const [id, vs] of managers) {
    const set = vs.set.difference(STRIPPED);
    if (!set.empty()) out.set(id, { ...vs, set });
  }
  return out;
}

/** How many Update entries an object keeps before the oldest are folded together (upstream's default). */
export const MAX_UPDATE_MANAGERS = 10;

/**
 * Folds the oldest Update entries into one `ancient-changes` entry per apiVersion until at most
 * `max` Update entries remain: a bucket starts with the second-oldest entry of a version and takes
 * the time of the last one folded in. Upstream: capmanagers.go.
 */
export function capUpdateManagers(m: Managed, max = MAX_UPDATE_MANAGERS): Managed {
  const updaters = [...m.managers].filter(([, vs]) => !vs.applied).map(([id]) => id);
  if (updaters.length <= max) return m;
  const secs = (id: string) => { const t = m.times.get(id); return t ? Math.floor(Date.parse(t) / 1000) : 0; };
  updaters.sort((a, b) => secs(a) - secs(b) || (a < b ? -1 : a > b ? 1 : 0));
  const managers: Managers = new Map(m.managers);
  const times = new Map(m.times);
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const id = updaters[i];
    const vs = managers.get(id)!;
    const bucket = managerIdentifier({ manager: 'ancient-changes', operation: 'Update', apiVersion: vs.apiVersion });
    const first = firstOfVersion.get(vs.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(vs.apiVersion, id);
      continue;
    }
    if (!managers.has(bucket)) {
      managers.set(bucket, managers.get(first)!);
      managers.delete(first);
    }
    managers.set(bucket, { set: vs.set.union(managers.get(bucket)!.set), apiVersion: vs.apiVersion, applied: false });
    managers.delete(id);
    times.set(bucket, m.times.get(id));
    length--;
  }
  return { managers, times };
}
