/**
 * The dynamic contents of the proxy's table as data: per-service chains and sets, and the elements
 * of the shared maps. Two states are diffed by transaction.ts; equal arrays mean "leave alone".
 */

/** What one service port contributes to the table. */
export interface Fragment {
  /** Set name → declaration (`{ type …; flags …; timeout …; }`). */
  sets: [string, string][];
  /** Chain name → rules, in order. */
  chains: [string, string[]][];
  /** [map or set, key, value ('' for a set)]. */
  elements: [string, string, string][];
}

export interface TableState {
  sets: Map<string, string>;
  chains: Map<string, string[]>;
  /** Map or set name → key → value. */
  elements: Map<string, Map<string, string>>;
}

export function emptyState(): TableState {
  return { sets: new Map(), chains: new Map(), elements: new Map() };
}

/** A copy sharing the (immutable) rule arrays: what was applied, kept apart from what is wanted. */
export function copyState(s: TableState): TableState {
  return {
    sets: new Map(s.sets), chains: new Map(s.chains),
    elements: new Map([...s.elements].map(([k, m]) => [k, new Map(m)])),
  };
}

export function sameRules(a: string[] | undefined, b: string[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Copies the entries named in `scope` from `from` into `into` (what the kernel has after a diff). */
export function copyScope(from: TableState, into: TableState, scope: { chains: Set<string>; sets: Set<string>; elements: Map<string, Set<string>> }): void {
  for (const name of scope.chains) {
    const rules = from.chains.get(name);
    if (rules === undefined) into.chains.delete(name); else into.chains.set(name, rules);
  }
  for (const name of scope.sets) {
    const decl = from.sets.get(name);
    if (decl === undefined) into.sets.delete(name); else into.sets.set(name, decl);
  }
  for (const [map, keys] of scope.elements) {
    let m = into.elements.get(map);
    if (!m) into.elements.set(map, (m = new Map()));
    const src = from.elements.get(map);
    for (const key of keys) {
      const v = src?.get(key);
      if (v === undefined) m.delete(key); else m.set(key, v);
    }
  }
}
