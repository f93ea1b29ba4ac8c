/**
 * The Priority admission plugin (plugin/pkg/admission/priority): on pod create it resolves
 * spec.priorityClassName — or, with none, the global default class (the lowest-valued one if several
 * claim it) — into spec.priority and spec.preemptionPolicy, refusing an unknown class and a pod that
 * brings its own priority or policy different from its class's; on pod update it keeps what create
 * set. For PriorityClasses it allows one global default only, and refuses to delete the built-in
 * classes (upstream's storage refuses; here every delete passes admission, so the rule sits here).
 *
 * Pods read classes from a cache (the server's informer) with the store behind a miss, so a chart
 * applying a class and its pods together works; class writes check the store itself.
 */
import type { KubeObject } from '../../apis/object.ts';
import { ApiError, errors } from '../../errors/index.ts';
import type { Registry } from '../registry.ts';
import type { AdmissionPlugin, AdmissionRequest } from './admission.ts';
import { DEFAULT_PRIORITY, SYSTEM_PRIORITY_CLASSES } from '../kinds/priority-class.ts';

const GROUP = 'scheduling.k8s.io';
const PLURAL = 'priorityclasses';

/** Where pods' classes come from first. */
export interface PriorityClassCache {
  /** The class named, or undefined (then the store is asked). */
  get(name: string): KubeObject | undefined;
  /** Every class, or undefined while the cache is not filled (then the store is listed). */
  list(): KubeObject[] | undefined;
}

export interface PriorityAdmissionOptions {
  registry: Registry;
  cache?: PriorityClassCache;
}

/** getDefaultPriorityClass: the global default class with the lowest value, if any. */
export function defaultPriorityClass(classes: readonly KubeObject[]): KubeObject | undefined {
  let best: KubeObject | undefined;
  for (const pc of classes) {
    if (pc.globalDefault === true && (!best || pc.value < best.value)) best = pc;
  }
  return best;
}

/** What create sets: the class's name (the default's when the pod names none), priority and policy. */
export interface ResolvedPriority {
  className: string;
  priority: number;
  preemptionPolicy: string;
}

export function priorityAdmission(opts: PriorityAdmissionOptions): AdmissionPlugin {
  const store = () => opts.registry.store(GROUP, PLURAL)!;
  const live = async (name: string): Promise<KubeObject | undefined> => {
    try {
      return await store().get(undefined, name);
    } catch (err) {
      if (err instanceof ApiError && err.http === 404) return undefined;
      throw err;
    }
  };
  const all = async (): Promise<KubeObject[]> => opts.cache?.list() ?? (await store().list(undefined)).items;

  async function resolve(req: AdmissionRequest, spec: Record<string, any>): Promise<ResolvedPriority> {
    const name = spec.priorityClassName;
    if (typeof name === 'string' && name !== '') {
      const pc = opts.cache?.get(name) ?? await live(name);
      if (!pc) throw errors.forbidden('', 'pods', req.name, `no PriorityClass with name ${name} was found`);
      return { className: name, priority: pc.value, preemptionPolicy: pc.preemptionPolicy ?? 'PreemptLowerPriority' };
    }
    const dpc = defaultPriorityClass(await all());
    if (dpc) return { className: dpc.metadata.name!, priority: dpc.value, preemptionPolicy: dpc.preemptionPolicy ?? 'PreemptLowerPriority' };
    return { className: '', priority: DEFAULT_PRIORITY, preemptionPolicy: 'PreemptLowerPriority' };
  }

  async function admitPod(req: AdmissionRequest): Promise<void> {
    const spec = (req.object!.spec ??= {}) as Record<string, any>;
    if (req.operation === 'UPDATE') {
      // Create set them; an update that leaves them out keeps them (validation refuses changes).
      const old = req.oldObject?.spec ?? {};
      if (spec.priority === undefined && old.priority !== undefined) spec.priority = old.priority;
      if (spec.preemptionPolicy === undefined && old.preemptionPolicy !== undefined) spec.preemptionPolicy = old.preemptionPolicy;
      return;
    }
    const r = await resolve(req, spec);
    if (r.className) spec.priorityClassName = r.className;
    if (spec.priority !== undefined && spec.priority !== null && spec.priority !== r.priority) {
      throw errors.forbidden('', 'pods', req.name, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${r.priority} from the given PriorityClass name`);
    }
    spec.priority = r.priority;
    if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null && spec.preemptionPolicy !== r.preemptionPolicy) {
      throw errors.forbidden('', 'pods', req.name, `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${r.preemptionPolicy} from the given PriorityClass name`);
    }
    spec.preemptionPolicy = r.preemptionPolicy;
  }

  return {
    name: 'Priority',
    // Both synchronous for what they do not concern (most writes: no promise for nothing to do).
    admit(req) {
      if (req.subresource || req.resource.group !== '' || req.resource.plural !== 'pods' || !req.object) return;
      if (req.operation === 'CREATE' || req.operation === 'UPDATE') return admitPod(req);
    },
    validate(req) {
      if (req.subresource || req.resource.group !== GROUP || req.resource.plural !== PLURAL) return;
      return validateClass(req);
    },
  };

  async function validateClass(req: AdmissionRequest): Promise<void> {
    if (req.operation === 'DELETE') {
      if (SYSTEM_PRIORITY_CLASSES.some((c) => c.name === req.name)) {
        throw errors.forbidden(GROUP, PLURAL, req.name, 'this is a system priority class and cannot be deleted');
      }
      return;
    }
    if ((req.operation !== 'CREATE' && req.operation !== 'UPDATE') || req.object?.globalDefault !== true) return;
    // One global default: the store, not a cache, says whether another class already is.
    const dpc = defaultPriorityClass((await store().list(undefined)).items);
    if (dpc && (req.operation === 'CREATE' || dpc.metadata.name !== req.object.metadata.name)) {
      throw errors.forbidden(GROUP, PLURAL, req.name, `PriorityClass ${dpc.metadata.name} is marked as default. Only one default can exist`);
    }
  }
}
