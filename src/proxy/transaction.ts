/**
 * TableState → `nft -f` scripts. Both kinds are one atomic transaction:
 *
 * - full: declare the table, delete it (whatever was there), and write everything anew;
 * - incremental: only the difference between what was applied and what is wanted. Order matters
 *   inside the batch, because the kernel refuses to delete a chain or set still referenced:
 *     1. add new sets and declare new chains (rules may jump to each other)
 *     2. flush + rewrite changed chains, write new chains
 *     3. delete stale map elements, add new ones (a changed value is delete + add)
 *     4. flush, then delete, chains no longer wanted; then delete unwanted sets.
 */
import type { ProxyContext } from './model.ts';
import { DYNAMIC_MAPS, staticChains } from './table-layout.ts';
import type { TableChanges } from './desired-table.ts';
import { sameRules, type TableState } from './table-state.ts';

function elementLine(verb: 'add' | 'delete', t: string, map: string, key: string, value: string): string {
  return `${verb} element ${t} ${map} { ${key}${verb === 'add' && value ? ` : ${value}` : ''} }`;
}

function writeChain(out: string[], t: string, name: string, rules: string[]): void {
  for (const r of rules) out.push(`add rule ${t} ${name} ${r}`);
}

/** Replaces the table `ip <table>` with `state` (plus the fixed layout). */
export function fullScript(table: string, ctx: ProxyContext, state: TableState): string {
  const t = `ip ${table}`;
  const out = [`add table ${t}`, `delete table ${t}`, `add table ${t} { comment "berth service proxy"; }`];
  for (const [name, decl] of Object.entries(DYNAMIC_MAPS)) out.push(`add ${decl.includes(':') ? 'map' : 'set'} ${t} ${name} ${decl}`);
  for (const [name, decl] of state.sets) out.push(`add set ${t} ${name} ${decl}`);
  for (const name of state.chains.keys()) out.push(`add chain ${t} ${name}`);
  const fixed = staticChains(ctx);
  for (const c of fixed) out.push(`add chain ${t} ${c.name}${c.hook ? ` ${c.hook}` : ''}`);
  for (const [name, rules] of state.chains) writeChain(out, t, name, rules);
  for (const c of fixed) writeChain(out, t, c.name, c.rules);
  for (const [map, elements] of state.elements) {
    for (const [key, value] of elements) out.push(elementLine('add', t, map, key, value));
  }
  return out.join('\n') + '\n';
}

/** Removes the table if it exists (no error when it does not). */
export function deleteScript(table: string): string {
  return `add table ip ${table}\ndelete table ip ${table}\n`;
}

function union<T>(a: Iterable<T>, b: Iterable<T>): Set<T> {
  return new Set([...a, ...b]);
}

/** Every name in either state: the scope of a diff that was not told what changed. */
export function wholeScope(from: TableState, to: TableState): TableChanges {
  const elements = new Map<string, Set<string>>();
  for (const map of union(from.elements.keys(), to.elements.keys())) {
    elements.set(map, union(from.elements.get(map)?.keys() ?? [], to.elements.get(map)?.keys() ?? []));
  }
  return { chains: union(from.chains.keys(), to.chains.keys()), sets: union(from.sets.keys(), to.sets.keys()), elements };
}

/**
 * The script turning `from` (what the kernel has) into `to`, looking only at the names in `scope`
 * (default: all); '' when nothing differs.
 */
export function diffScript(table: string, from: TableState, to: TableState, scope: TableChanges = wholeScope(from, to)): string {
  const t = `ip ${table}`;
  const out: string[] = [];
  for (const name of scope.sets) {
    const decl = to.sets.get(name);
    const old = from.sets.get(name);
    if (decl === undefined) continue;
    if (old === undefined) out.push(`add set ${t} ${name} ${decl}`);
    // Names encode everything that cannot change in place (see names.ts).
    else if (old !== decl) throw new Error(`set ${name} changed its declaration`);
  }
  for (const name of scope.chains) if (to.chains.has(name) && !from.chains.has(name)) out.push(`add chain ${t} ${name}`);
  for (const name of scope.chains) {
    const rules = to.chains.get(name);
    const old = from.chains.get(name);
    if (rules === undefined) continue;
    if (old === undefined) writeChain(out, t, name, rules);
    else if (!sameRules(old, rules)) {
      out.push(`flush chain ${t} ${name}`);
      writeChain(out, t, name, rules);
    }
  }
  const adds: string[] = [];
  for (const [map, keys] of scope.elements) {
    const a = from.elements.get(map);
    const b = to.elements.get(map);
    for (const key of keys) {
      const was = a?.get(key);
      const now = b?.get(key);
      if (was === now) continue;
      if (was !== undefined) out.push(elementLine('delete', t, map, key, was));
      if (now !== undefined) adds.push(elementLine('add', t, map, key, now));
    }
  }
  out.push(...adds);
  const gone = [...scope.chains].filter((name) => from.chains.has(name) && !to.chains.has(name));
  for (const name of gone) out.push(`flush chain ${t} ${name}`);
  for (const name of gone) out.push(`delete chain ${t} ${name}`);
  for (const name of scope.sets) if (from.sets.has(name) && !to.sets.has(name)) out.push(`delete set ${t} ${name}`);
  return out.length ? out.join('\n') + '\n' : '';
}
