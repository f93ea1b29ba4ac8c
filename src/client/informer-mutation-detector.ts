/**
 * The cache-mutation detector (client-go's KUBE_CACHE_MUTATION_DETECTOR, as a freeze): with
 * `BERTH_CACHE_MUTATION_DETECTOR=1` every informer deep-freezes what it caches and hands to its
 * handlers. Cached objects are shared by every consumer, and a cached pod's parts with other pods
 * (object-intern.ts), so a write into one corrupts others silently; frozen, the write throws a
 * TypeError at the culprit (ES modules are strict code). Off by default: tests turn it on
 * (scripts/test.sh), servers they start inherit it.
 *
 * client-go keeps a copy of each object and compares it now and then, naming the object, not the
 * writer; freezing names the writer. The informer freezes its own copy (`detectorForm`): the decoded
 * object it was given may be held by others (the writer's reply, another form's informer), whose
 * legitimate writes to their own copy must not throw.
 */
import type { KubeObject } from '../apis/object.ts';
import type { Transform } from './cached-form.ts';

/** Whether informers made now freeze what they cache (read at each informer's construction). */
export function mutationDetectorOn(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.BERTH_CACHE_MUTATION_DETECTOR;
  return v === '1' || v === 'true';
}

/** Freezes `v` and everything it holds; parts already frozen (shared with earlier objects) are skipped. */
export function deepFreeze<T>(v: T): T {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return v;
  Object.freeze(v);
  if (Array.isArray(v)) {
    for (const x of v) deepFreeze(x);
  } else {
    for (const k in v as Record<string, unknown>) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

/**
 * `form` applied to a copy of the object, the result deep-frozen: what an informer caches with the
 * detector on. The copy is the informer's own (see the file comment), so `form` may intern it in place.
 */
export function detectorForm(form: Transform): Transform {
  return (obj: KubeObject) => {
    if (typeof obj !== 'object' || obj === null) return obj;
    return deepFreeze(form(structuredClone(obj)));
  };
}
