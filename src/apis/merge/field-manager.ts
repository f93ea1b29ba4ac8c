/**
 * managedFields on writes: `trackUpdate` for every create, update and non-apply patch (Operation
 * Update), `applyObject` for server-side apply (Operation Apply), each returning the object with its
 * new managedFields. Around the algebra of updater.ts this adds what the API server does: managedFields
 * sent by a client on an update replace the stored ones (how kubectl rewrites client-side-apply owners),
 * server fields are never owned (stripMeta), times change only when a manager's fields do, and the
 * client-side-apply bridges for kubectl's own manager `kubectl` — conflicts on fields whose values
 * match the last-applied-configuration annotation are no conflicts, and that annotation is kept up to date.
 * Upstream: k8s.io/apimachinery/pkg/util/managedfields/internal (fieldmanager.go, structuredmerge.go,
 * managedfieldsupdater.go, lastappliedmanager.go, lastappliedupdater.go).
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../object.ts';
import { rfc3339 } from '../time.ts';
import { compareValues } from './compare.ts';
import { FieldSet } from './field-set.ts';
import { capUpdateManagers, decodeManagedFields, encodeManagedFields, managerIdentifier, STRIPPED, stripMeta, type Managed } from './managed-fields.ts';
import type { Json } from './path.ts';
import type { MergeType } from './schema.ts';
import { toFieldSet } from './to-field-set.ts';
import { applyConfig, ConflictsError, updateManagers, type Managers } from './updater.ts';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** What a write is tracked against. */
export interface TrackContext {
  type: MergeType;
  /** The request's group/version (`apps/v1`). */
  apiVersion: string;
  /** `status`, `scale`, … ; undefined for the main resource. */
  subresource?: string;
  /** Fields this endpoint resets (see UpdaterOptions.ignored). */
  ignored?: FieldSet;
  /** Custom resources: compared as plain JSON (see compare.ts). */
  markStructs?: boolean;
  /** Clock, for tests. */
  now?: () => string;
}

function withoutManagedFields(obj: KubeObject | undefined): Json {
  if (!obj) return {};
  const { metadata, ...rest } = obj;
  const { managedFields: _mf, ...meta } = metadata ?? {};
  return { ...rest, metadata: meta } as Json;
}

function decodeOrEmpty(entries: unknown): Managed {
  try {
    return decodeManagedFields(entries);
  } catch {
    return decodeManagedFields(undefined);
  }
}

/**
 * What managedFields a client sent on an update mean: `[{}]` clears them (documented upstream);
 * entries that decode replace the stored ones; undecodable ones are ignored (undefined), as upstream
 * ignores them, keeping the live ones.
 */
function sentManagedFields(sent: unknown[]): Managed | undefined {
  if (sent.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e) && Object.keys(e).length === 0)) return decodeManagedFields(undefined);
  try {
    return decodeManagedFields(sent);
  } catch {
    return undefined;
  }
}

/**
 * managedFields for an Update by `manager` from `live` (undefined on create) to `next`. Entries in
 * `next` that differ from the live ones and decode are taken as the client's (main resource only).
 */
export function trackUpdate(live: KubeObject | undefined, next: KubeObject, manager: string, ctx: TrackContext): unknown[] {
  let managed = decodeOrEmpty(live?.metadata?.managedFields);
  const sent = next.metadata?.managedFields;
  if (!ctx.subresource && Array.isArray(sent) && sent.length) managed = sentManagedFields(sent) ?? managed;
  const id = managerIdentifier({ manager, operation: 'Update', apiVersion: ctx.apiVersion, subresource: ctx.subresource });
  const liveJson = withoutManagedFields(live);
  const nextJson = withoutManagedFields(next);
  const update = updateManagers(liveJson, nextJson, ctx.type, managed.managers, id, ctx.apiVersion, { ignored: ctx.ignored, markStructs: ctx.markStructs });
  const managers = stripMeta(update.managers);
  const times = new Map(managed.times);
  // The time moves only when this write changed fields it now owns (upstream's managedFieldsUpdater).
  let changed = update.changed;
  if (ctx.ignored) changed = changed.recursiveDifference(ctx.ignored);
  if (managers.has(id) && !changed.difference(STRIPPED).empty()) times.set(id, (ctx.now ?? rfc3339)());
  return encodeManagedFields(capUpdateManagers({ managers, times }));
}

export interface ApplyResult {
  /** The object to store, with managedFields set. */
  object: KubeObject;
  /** False when the apply changed no field (managedFields may still have changed). */
  changed: boolean;
}

export { ConflictsError };

/**
 * Server-side apply of `config` by `manager` over `live` (an empty object for a create). Throws
 * ConflictsError unless `force`; MergeError for a configuration the schema cannot merge.
 */
export function applyObject(live: KubeObject | undefined, config: KubeObject, manager: string, force: boolean, ctx: TrackContext): ApplyResult {
  const managed = decodeOrEmpty(live?.metadata?.managedFields);
  const id = managerIdentifier({ manager, operation: 'Apply', subresource: ctx.subresource });
  const liveJson = withoutManagedFields(live);
  const opts = { ignored: ctx.ignored, markStructs: ctx.markStructs };
  let result: { object: Json; managers: Managers };
  try {
    result = applyConfig(liveJson, config as Json, ctx.type, managed.managers, id, ctx.apiVersion, force, opts);
  } catch (err) {
    if (!(err instanceof ConflictsError) || manager !== 'kubectl' || !live) throw err;
    const allowed = allowedByLastApplied(live, liveJson, ctx);
    const remaining = err.conflicts.filter((c) => !allowed?.has(c.path));
    if (remaining.length) throw new ConflictsError(remaining);
    result = applyConfig(liveJson, config as Json, ctx.type, managed.managers, id, ctx.apiVersion, true, opts);
  }
  const object = result.object as KubeObject;
  const changed = !isDeepStrictEqual(liveJson, object);
  object.metadata = object.metadata ?? {};
  if (manager === 'kubectl' && typeof live?.metadata?.annotations?.[LAST_APPLIED] === 'string' && live.metadata.annotations[LAST_APPLIED]) {
    const applied = structuredClone(config);
    if (applied.metadata?.annotations) {
      delete applied.metadata.annotations[LAST_APPLIED];
      if (!Object.keys(applied.metadata.annotations).length) delete applied.metadata.annotations;
    }
    object.metadata.annotations = { ...(object.metadata.annotations ?? {}), [LAST_APPLIED]: JSON.stringify(applied) };
  }
  const times = new Map(managed.times);
  if (changed || !managed.managers.has(id)) times.set(id, (ctx.now ?? rfc3339)());
  const entries = encodeManagedFields({ managers: stripMeta(result.managers), times });
  if (entries.length) object.metadata.managedFields = entries;
  else delete object.metadata.managedFields;
  return { object, changed };
}

/**
 * The fields whose live values are still those of the last client-side apply: a server-side apply
 * by `kubectl` may take them from their owners without a conflict.
 */
function allowedByLastApplied(live: KubeObject, liveJson: Json, ctx: TrackContext): FieldSet | undefined {
  const text = live.metadata.annotations?.[LAST_APPLIED];
  if (typeof text !== 'string' || !text) return undefined;
  let last: unknown;
  try {
    last = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof last !== 'object' || last === null || (last as KubeObject).apiVersion !== ctx.apiVersion) return undefined;
  try {
    const set = toFieldSet(last as Json, ctx.type);
    const c = compareValues(last as Json, liveJson, ctx.type, { markStructs: ctx.markStructs });
    return set.difference(c.modified).difference(c.added).difference(c.removed);
  } catch {
    return undefined;
  }
}
