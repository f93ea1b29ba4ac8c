/**
 * The wanted table contents, kept up to date one Service at a time, remembering which chains,
 * sets and map elements changed since the last `takeChanges()` — so a sync after one endpoint
 * change compares and writes only those, whatever the size of the table.
 *
 * Chains and sets belong to one Service (their names contain its key). Map and set elements can be
 * claimed by several (one cluster IP for two ports, one pod behind two Services, or — briefly — two
 * Services on one node port): the first claim wins, and the element goes when the last claim does.
 */
import { emptyState, type Fragment, type TableState } from './table-state.ts';

/** Names touched since the last takeChanges(). */
export interface TableChanges {
  chains: Set<string>;
  sets: Set<string>;
  /** Map or set name → keys. */
  elements: Map<string, Set<string>>;
}

interface Claim { owner: string; value: string }

function noChanges(): TableChanges {
  return { chains: new Set(), sets: new Set(), elements: new Map() };
}

export class DesiredTable {
  readonly state: TableState = emptyState();
  private readonly owned = new Map<string, Fragment[]>();
  private readonly claims = new Map<string, Map<string, Claim[]>>();
  private changes = noChanges();

  /** Replaces what `owner` contributes (undefined or [] removes it). Returns conflicting keys. */
  set(owner: string, fragments: Fragment[] | undefined): string[] {
    const old = this.owned.get(owner) ?? [];
    const next = fragments ?? [];
    if (next.length) this.owned.set(owner, next); else this.owned.delete(owner);
    const s = this.state;
    for (const f of old) {
      for (const [name] of f.chains) { s.chains.delete(name); this.changes.chains.add(name); }
      for (const [name] of f.sets) { s.sets.delete(name); this.changes.sets.add(name); }
      for (const [map, key] of f.elements) this.unclaim(map, key, owner);
    }
    const conflicts: string[] = [];
    for (const f of next) {
      for (const [name, rules] of f.chains) { s.chains.set(name, rules); this.changes.chains.add(name); }
      for (const [name, decl] of f.sets) { s.sets.set(name, decl); this.changes.sets.add(name); }
      for (const [map, key, value] of f.elements) if (this.claim(map, key, owner, value)) conflicts.push(`${map} ${key}`);
    }
    return conflicts;
  }

  /** The names touched since the last call (the caller diffs them against what the kernel has). */
  takeChanges(): TableChanges {
    const c = this.changes;
    this.changes = noChanges();
    return c;
  }

  private touch(map: string, key: string): void {
    let keys = this.changes.elements.get(map);
    if (!keys) this.changes.elements.set(map, (keys = new Set()));
    keys.add(key);
  }

  /** Returns true when another owner holds this key with a different value. */
  private claim(map: string, key: string, owner: string, value: string): boolean {
    let byKey = this.claims.get(map);
    if (!byKey) this.claims.set(map, (byKey = new Map()));
    const list = byKey.get(key) ?? [];
    if (list.some((c) => c.owner === owner)) return false; // one claim per owner (two ports, one pod)
    list.push({ owner, value });
    byKey.set(key, list);
    this.effective(map, key, list);
    return list[0].value !== value;
  }

  private unclaim(map: string, key: string, owner: string): void {
    const byKey = this.claims.get(map);
    const list = byKey?.get(key)?.filter((c) => c.owner !== owner);
    if (!byKey || !list) return;
    if (list.length) byKey.set(key, list); else byKey.delete(key);
    this.effective(map, key, list);
  }

  private effective(map: string, key: string, list: Claim[]): void {
    let m = this.state.elements.get(map);
    if (!m) this.state.elements.set(map, (m = new Map()));
    if (list.length) m.set(key, list[0].value); else m.delete(key);
    this.touch(map, key);
  }
}

/** The state of a whole list of per-Service fragment lists (tests, the naive benchmark peer). */
export function stateOf(services: Fragment[][]): TableState {
  const d = new DesiredTable();
  services.forEach((frags, i) => d.set(String(i), frags));
  return d.state;
}
