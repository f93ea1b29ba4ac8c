/**
 * The field-ownership algebra of server-side apply over one object: Update (a write that is not an
 * apply takes every field it changed from whoever owned it) and Apply (merge the configuration, drop
 * what this applier no longer applies and nobody else owns, and refuse — unless forced — to change a
 * field another manager owns). Managers are keyed by an identifier (see managed-fields.ts).
 * Upstream: structured-merge-diff merge/update.go.
 */
import { compareValues, type Comparison } from './compare.ts';
import { FieldSet } from './field-set.ts';
import { mergeValues } from './merge-values.ts';
import type { Json, Path } from './path.ts';
import { pathString } from './path.ts';
import { removeItems } from './remove.ts';
import { fieldType, type MergeType } from './schema.ts';
import { toFieldSet } from './to-field-set.ts';

export interface VersionedSet { set: FieldSet; apiVersion: string; applied: boolean }
export type Managers = Map<string, VersionedSet>;

export interface Conflict { manager: string; path: Path }

export class ConflictsError extends Error {
  constructor(readonly conflicts: Conflict[]) {
    super(conflicts.map((c) => `conflict with ${JSON.stringify(c.manager)}: ${pathString(c.path)}`).join('\n'));
  }
}

export interface UpdaterOptions {
  /** Fields no manager is recorded for (reset by the endpoint's strategy, e.g. status on the main resource). */
  ignored?: FieldSet;
  /** Compare as plain JSON (custom resources): see compare.ts. */
  markStructs?: boolean;
}

function exclude(c: Comparison, ignored: FieldSet | undefined): Comparison {
  if (!ignored || ignored.empty()) return c;
  return {
    added: c.added.recursiveDifference(ignored),
    modified: c.modified.recursiveDifference(ignored),
    removed: c.removed.recursiveDifference(ignored),
  };
}

/**
 * Moves ownership for the change old → new: other managers lose what changed (with `force`) or
 * the change is refused with their conflicts; everyone loses what was removed.
 */
function update(oldObj: Json, newObj: Json, type: MergeType, managers: Managers, workflow: string, force: boolean, opts: UpdaterOptions): { managers: Managers; compare: Comparison } {
  const compare = exclude(compareValues(oldObj, newObj, type, { markStructs: opts.markStructs }), opts.ignored);
  const changed = compare.modified.union(compare.added);
  const conflicts = new Map<string, FieldSet>();
  for (const [manager, vs] of managers) {
    if (manager === workflow) continue;
    const c = vs.set.intersection(changed);
    if (!c.empty()) conflicts.set(manager, c);
  }
  if (!force && conflicts.size) {
    const list: Conflict[] = [];
    for (const [manager, set] of conflicts) for (const path of set.paths()) list.push({ manager, path });
    throw new ConflictsError(list);
  }
  const out: Managers = new Map();
  for (const [manager, vs] of managers) {
    let set = vs.set;
    if (manager !== workflow) {
      const c = conflicts.get(manager);
      if (c) set = set.difference(c);
      set = set.difference(compare.removed);
    }
    if (!set.empty()) out.set(manager, { ...vs, set });
  }
  return { managers: out, compare };
}

/** An Update (create, PUT, or a patch that is not an apply) by `manager`: returns the new managers. */
export function updateManagers(liveObj: Json, newObj: Json, type: MergeType, managers: Managers, manager: string, apiVersion: string, opts: UpdaterOptions = {}): { managers: Managers; changed: FieldSet } {
  const { managers: out, compare } = update(liveObj, newObj, type, managers, manager, true, opts);
  const prev = out.get(manager)?.set ?? new FieldSet();
  const changed = compare.modified.union(compare.added);
  let set = prev.difference(compare.removed).union(changed);
  if (opts.ignored) set = set.recursiveDifference(opts.ignored);
  if (set.empty()) out.delete(manager);
  else out.set(manager, { set, apiVersion, applied: false });
  return { managers: out, changed };
}

/**
 * Apply of `config` by `manager`: the merged object (undefined when nothing changed) and the
 * managers after it. Throws ConflictsError unless `force`.
 */
export function applyConfig(liveObj: Json, config: Json, type: MergeType, managers: Managers, manager: string, apiVersion: string, force: boolean, opts: UpdaterOptions = {}): { object: Json; managers: Managers } {
  // The configuration's own set first: it refuses duplicate and keyless list items before any merge.
  let set = toFieldSet(config, type, { strict: true });
  let merged: Json = mergeValues(liveObj, config, type) ?? {};
  const last = managers.get(manager);
  if (opts.ignored) set = set.recursiveDifference(opts.ignored);
  const next: Managers = new Map(managers);
  next.set(manager, { set, apiVersion, applied: true });
  if (last && !last.set.empty()) merged = prune(merged, type, next, last.set);
  const { managers: out } = update(liveObj, merged, type, next, manager, force, opts);
  if (!out.has(manager) && !set.empty()) out.set(manager, { set, apiVersion, applied: true });
  return { object: merged, managers: out };
}

/**
 * Removes what the applier applied last time and not this time, unless some manager (this one
 * included, through its new configuration) still owns it.
 */
function prune(merged: Json, type: MergeType, managers: Managers, lastSet: FieldSet): Json {
  let owned = new FieldSet();
  for (const vs of managers.values()) owned = owned.union(vs.set);
  const toRemove = ensureNamedFieldsAreMembers(lastSet, type).difference(ensureNamedFieldsAreMembers(owned, type));
  if (toRemove.empty()) return merged;
  return removeItems(merged, toRemove, type) ?? {};
}

/**
 * `set` plus every struct field on the way to its members: applied sets name only leaves, so that
 * pruning `.spec.a.b` also drops `.spec.a` once nothing under it is owned. Upstream:
 * fieldpath.Set.EnsureNamedFieldsAreMembers.
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, type: MergeType): FieldSet {
  const out = new FieldSet();
  for (const [k, pe] of set.members) out.members.set(k, pe);
  for (const [k, c] of set.children) {
    let childType: MergeType = { kind: 'untyped' };
    if ('field' in c.pe && type.kind === 'map') {
      if (type.fields?.has(c.pe.field)) out.members.set(k, c.pe);
      childType = fieldType(type, c.pe.field);
    } else if ('key' in c.pe && type.kind === 'list') {
      childType = type.element;
    }
    out.children.set(k, { pe: c.pe, set: ensureNamedFieldsAreMembers(c.set, childType) });
  }
  return out;
}
