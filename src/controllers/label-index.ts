/**
 * Objects by label, for controllers whose owners pick pods by a selector rather than by controller
 * reference (Services, PodDisruptionBudgets). Upstream lists the namespace with the selector
 * (`podLister.Pods(ns).List(selector)`), a walk of every pod of the namespace per sync: at 150,000
 * pods in one namespace each sync of a Service of three pods walked 150,000. Here an informer index
 * files each object under every `namespace/key=value` of its labels; a selector's equality
 * requirements name buckets, the smallest is read and the whole selector still filters it — the same
 * objects as the walk, at the cost of the bucket.
 */
import type { KubeObject } from '../apis/object.ts';

/** The name of the informer index filing objects under each of their labels. */
export const LABEL_INDEX = 'label';

/** The index value of one label in one namespace (a namespace holds no '/', a label key no '='). */
export function labelKey(namespace: string, key: string, value: string): string {
  return `${namespace}/${key}=${value}`;
}

/** Indexes an object under each of its labels (for informer.addIndex). */
export function labelIndex(obj: KubeObject): string[] {
  const labels = obj.metadata.labels;
  if (!labels) return [];
  const ns = obj.metadata.namespace ?? '';
  const out: string[] = [];
  for (const k in labels) out.push(labelKey(ns, k, labels[k]));
  return out;
}

/** What selectedBy reads: an informer with LABEL_INDEX. */
export interface LabelIndexed {
  byIndex(name: string, value: string): KubeObject[];
  list(namespace?: string): KubeObject[];
}

/**
 * The objects of `namespace` that `matches` accepts, read from the smallest LABEL_INDEX bucket of
 * `required` — label pairs every accepted object carries (a selector's matchLabels). Without any
 * required pair (an empty selector, or only set-based expressions) the namespace is walked, as
 * upstream does. `matches` must imply `required`, or objects would be missed.
 */
export function selectedBy(informer: LabelIndexed, namespace: string, required: Record<string, string> | undefined, matches: (obj: KubeObject) => boolean): KubeObject[] {
  let smallest: KubeObject[] | undefined;
  for (const k in required ?? {}) {
    const bucket = informer.byIndex(LABEL_INDEX, labelKey(namespace, k, required![k]));
    if (!smallest || bucket.length < smallest.length) smallest = bucket;
    if (smallest.length === 0) break;
  }
  return (smallest ?? informer.list(namespace)).filter(matches);
}

/**
 * The other way round: selectors (Services, PDBs) filed under one pair every object they select
 * carries — the first of their equality pairs by key — so an object's events find the selectors
 * that may pick it through its own labels, not by matching every selector of the namespace.
 * Selectors without an equality pair are filed under the namespace's `*`, always looked at.
 */
export const SELECTOR_INDEX = 'selectorPair';

/**
 * An index function for SELECTOR_INDEX (one per kind, module-level: informers keep the first
 * function registered under a name). `requiredOf` gives the equality pairs, or undefined for a
 * selector that selects nothing (left out of the index).
 */
export function selectorIndex(requiredOf: (obj: KubeObject) => Record<string, string> | undefined): (obj: KubeObject) => string[] {
  return (obj) => {
    const required = requiredOf(obj);
    if (!required) return [];
    const ns = obj.metadata.namespace ?? '';
    const keys = Object.keys(required).sort();
    return [keys.length ? labelKey(ns, keys[0], required[keys[0]]) : `${ns}/*`];
  };
}

/**
 * The selectors of `obj`'s namespace that `matches` accepts for it, from SELECTOR_INDEX: those
 * filed under one of its labels, and those without an equality pair. Each appears once.
 */
export function selectorsFor(informer: Pick<LabelIndexed, 'byIndex'>, obj: KubeObject, matches: (selector: KubeObject) => boolean): KubeObject[] {
  const ns = obj.metadata.namespace ?? '';
  const out: KubeObject[] = [];
  const labels = obj.metadata.labels ?? {};
  for (const k in labels) for (const s of informer.byIndex(SELECTOR_INDEX, labelKey(ns, k, labels[k]))) if (matches(s)) out.push(s);
  for (const s of informer.byIndex(SELECTOR_INDEX, `${ns}/*`)) if (matches(s)) out.push(s);
  return out;
}
