/**
 * Which checks a level and version run, and running them (policy/registry.go's Evaluator): baseline
 * runs the baseline checks; restricted runs the restricted checks plus every baseline check they do
 * not replace. Each check runs its newest function not newer than the asked version (`latest`: the
 * newest of all). Order is upstream's — baseline checks by ID, then restricted by ID — so aggregated
 * messages list reasons as Kubernetes does.
 */
import type { Check, CheckContext, CheckPodFn, CheckResult, Rec, VersionedCheck } from './check.ts';
import { BASELINE_CHECKS } from './checks-baseline.ts';
import { RESTRICTED_CHECKS } from './checks-restricted.ts';
import { HOST_PROCESS_CHECK } from './check-host-process.ts';
import { levelVersionString, olderThan, type LevelVersion } from './policy-level.ts';

/** Kubernetes 1.32's checks and Berth's host-process check. */
export const DEFAULT_CHECKS: readonly Check[] = [...BASELINE_CHECKS, HOST_PROCESS_CHECK, ...RESTRICTED_CHECKS];

export class Evaluator {
  private readonly cache = new Map<string, CheckPodFn[]>();
  private readonly ordered: Check[];

  constructor(checks: readonly Check[] = DEFAULT_CHECKS) {
    const ids = new Set<string>();
    for (const c of checks) {
      if (ids.has(c.id)) throw new Error(`multiple checks registered for ID ${c.id}`);
      ids.add(c.id);
      for (let i = 1; i < c.versions.length; i++) {
        if (!olderThan(c.versions[i - 1].minimumVersion, c.versions[i].minimumVersion)) throw new Error(`check ${c.id}: versions must be strictly increasing`);
      }
      if (c.level !== 'restricted' && c.versions.some((x) => x.overrides?.length)) throw new Error(`check ${c.id}: only restricted checks may set overrides`);
    }
    const byId = (a: Check, b: Check) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    this.ordered = [...checks.filter((c) => c.level === 'baseline').sort(byId), ...checks.filter((c) => c.level === 'restricted').sort(byId)];
  }

  /** The results of every check `lv` runs (none for privileged). */
  evaluate(lv: LevelVersion, meta: Rec, spec: Rec, ctx: CheckContext): CheckResult[] {
    if (lv.level === 'privileged') return [];
    return this.checksFor(lv).map((fn) => fn(meta, spec, ctx));
  }

  private checksFor(lv: LevelVersion): CheckPodFn[] {
    const key = levelVersionString(lv);
    let fns = this.cache.get(key);
    if (fns) return fns;
    const picked = new Map<Check, VersionedCheck>();
    for (const c of this.ordered) {
      if (lv.level === 'baseline' && c.level !== 'baseline') continue;
      let at: VersionedCheck | undefined;
      for (const vc of c.versions) if (!olderThan(lv.version, vc.minimumVersion)) at = vc;
      if (at) picked.set(c, at);
    }
    const overridden = new Set([...picked.values()].flatMap((vc) => vc.overrides ?? []));
    fns = [...picked].filter(([c]) => !(c.level === 'baseline' && overridden.has(c.id))).map(([, vc]) => vc.checkPod);
    this.cache.set(key, fns);
    return fns;
  }
}
