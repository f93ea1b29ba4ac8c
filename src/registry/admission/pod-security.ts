/**
 * The PodSecurity admission plugin (k8s.io/pod-security-admission/admission + kube-apiserver's
 * plugin/pkg/admission/security/podsecurity): on every create and update of a pod, of a workload
 * with a pod template, and of a namespace, the namespace's `pod-security.kubernetes.io/*` labels
 * pick a level and version for three modes —
 *
 *   enforce ─▶ a pod that violates it is refused (403 `violates PodSecurity "baseline:latest": …`)
 *   warn    ─▶ Warning headers (`would violate PodSecurity …`), for pods and pod templates
 *   audit   ─▶ a structured log line (Berth has no audit log) with upstream's audit annotation
 *
 * Templates are never refused (their pods are checked when created). A namespace whose enforce
 * label gets stricter is not refused either, but warns about the existing pods that would violate
 * it. Exempt usernames, namespaces and RuntimeClasses are not looked at.
 *
 * Berth: a container run by the `process` runtime is a host process (check-host-process.ts); which
 * runtime runs a container is resolved here, from the pod's RuntimeClass and the
 * `runtime.berth.dev/<container>` annotation. A container whose pod names no RuntimeClass is judged
 * by its image, as agents run it (apis/runtime-annotation.ts: `image: host` is a process, any other
 * image a runc container). A node whose administrator set `--default-runtime-class` runs such pods
 * under that class instead, which the API server cannot know: that flag is the administrator's choice.
 */
import type { KubeObject } from '../../apis/object.ts';
import { ApiError, errors } from '../../errors/index.ts';
import { aggregate, forbiddenDetail, forbiddenReason, type AggregateResult, type CheckContext, type Rec } from '../../auth/pod-security/check.ts';
import { DEFAULT_CONFIGURATION, type PodSecurityConfiguration } from '../../auth/pod-security/configuration.ts';
import { Evaluator } from '../../auth/pod-security/evaluator.ts';
import {
  compareLevels, equivalent, fullyPrivileged, levelLabel, levelVersionString, MODES, policyToEvaluate, versionLabel, versionString,
  type LevelVersion, type Policy,
} from '../../auth/pod-security/policy-level.ts';
import { extractPodSpec, hasPodSpec } from '../../auth/pod-security/pod-spec-extractor.ts';
import { containerNamed, handlerForImage, RUNTIME_ANNOTATION_PREFIX, runtimeOverride } from '../../apis/runtime-annotation.ts';
import type { Logger } from '../../util/log.ts';
import type { Registry } from '../registry.ts';
import type { AdmissionPlugin, AdmissionRequest } from './admission.ts';

/** At most this many existing pods are checked when a namespace's enforce level changes. */
const NAMESPACE_MAX_PODS = 3000;
const NAMESPACE_POD_CHECK_MS = 1000;

/** Pod subresources that cannot change what Pod Security checks. */
const IGNORED_POD_SUBRESOURCES = new Set(['exec', 'attach', 'binding', 'eviction', 'log', 'portforward', 'proxy', 'status']);

export const AUDIT_VIOLATIONS_ANNOTATION = 'pod-security.kubernetes.io/audit-violations';

/** What the plugin reads from the API server's store. */
export interface PodSecurityLookups {
  /** The namespace, or undefined if it does not exist. */
  namespace(name: string): Promise<KubeObject | undefined>;
  /** A RuntimeClass's handler, or undefined if there is no such RuntimeClass. */
  runtimeClassHandler(name: string): Promise<string | undefined>;
  pods(namespace: string): Promise<KubeObject[]>;
}

async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
    throw err;
  }
}

/** Reads straight from the store (not a cache), so a label set a moment ago already applies. */
export function registryLookups(registry: Registry): PodSecurityLookups {
  return {
    namespace: (name) => orUndefined(registry.store('', 'namespaces')!.get(undefined, name)),
    async runtimeClassHandler(name) {
      const rc = await orUndefined<KubeObject>(registry.store('node.k8s.io', 'runtimeclasses')!.get(undefined, name));
      return typeof rc?.handler === 'string' ? rc.handler : undefined;
    },
    pods: async (namespace) => (await registry.store('', 'pods')!.list(namespace)).items,
  };
}

export interface PodSecurityOptions {
  config?: PodSecurityConfiguration;
  lookups: PodSecurityLookups;
  log: Logger;
  evaluator?: Evaluator;
}

export function podSecurityAdmission(opts: PodSecurityOptions): AdmissionPlugin {
  const ps = new PodSecurity(opts);
  return { name: 'PodSecurity', validate: (req) => ps.validate(req) };
}

class PodSecurity {
  private readonly config: PodSecurityConfiguration;
  private readonly evaluator: Evaluator;

  constructor(private readonly opts: PodSecurityOptions) {
    this.config = opts.config ?? DEFAULT_CONFIGURATION;
    this.evaluator = opts.evaluator ?? new Evaluator();
  }

  // Synchronous until there is something to evaluate (most writes: no promise for nothing to check).
  validate(req: AdmissionRequest): void | Promise<void> {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return;
    const { group, plural } = req.resource;
    if (group === '' && plural === 'namespaces') return this.validateNamespace(req);
    if (group === '' && plural === 'pods') return this.validatePod(req);
    if (hasPodSpec(group, plural)) return this.validatePodController(req);
  }

  private policyOf(ns: KubeObject) {
    return policyToEvaluate(ns.metadata.labels, this.config.defaults);
  }

  private exemptUser(req: AdmissionRequest): boolean {
    return !!req.user.name && this.config.exemptions.usernames.includes(req.user.name);
  }

  private exemptNamespace(ns: string): boolean {
    return !!ns && this.config.exemptions.namespaces.includes(ns);
  }

  private exemptRuntimeClass(spec: Rec): boolean {
    const rc = spec.runtimeClassName;
    return typeof rc === 'string' && !!rc && this.config.exemptions.runtimeClasses.includes(rc);
  }

  private validatePod(req: AdmissionRequest): void | Promise<void> {
    if (IGNORED_POD_SUBRESOURCES.has(req.subresource)) return;
    if (this.exemptNamespace(req.namespace) || this.exemptUser(req)) return;
    const pod = req.object as Rec;
    // Before the namespace read: most pod updates (labels, finalizers) cannot change the verdict.
    if (req.operation === 'UPDATE' && !significantPodUpdate(pod, req.oldObject as Rec)) return;
    return this.enforcePod(req, pod);
  }

  private async enforcePod(req: AdmissionRequest, pod: Rec): Promise<void> {
    const ns = await this.opts.lookups.namespace(req.namespace);
    if (!ns) throw errors.internal(`failed to lookup namespace "${req.namespace}"`);
    const { policy, errors: labelErrors } = this.policyOf(ns);
    if (!labelErrors.length && fullyPrivileged(policy)) return;
    await this.evaluate(req, policy, pod.metadata ?? {}, pod.spec ?? {}, true);
  }

  private validatePodController(req: AdmissionRequest): void | Promise<void> {
    if (req.subresource) return;
    if (this.exemptNamespace(req.namespace) || this.exemptUser(req)) return;
    return this.checkPodController(req);
  }

  private async checkPodController(req: AdmissionRequest): Promise<void> {
    const ns = await this.opts.lookups.namespace(req.namespace);
    if (!ns) return;
    const { policy, errors: labelErrors } = this.policyOf(ns);
    if (!labelErrors.length && policy.warn.level === 'privileged' && policy.audit.level === 'privileged') return;
    const pod = extractPodSpec(req.resource.group, req.resource.plural, req.object as Rec);
    if (!pod) return;
    await this.evaluate(req, policy, pod.meta, pod.spec, false);
  }

  /** Enforce (pods only), audit and warn, reusing a result when two modes ask the same level and version. */
  private async evaluate(req: AdmissionRequest, policy: Policy, meta: Rec, spec: Rec, enforce: boolean): Promise<void> {
    if (this.exemptRuntimeClass(spec)) return;
    const ctx = await this.checkContext(meta, spec);
    const results = new Map<string, AggregateResult>();
    const run = (lv: LevelVersion): AggregateResult => {
      const key = levelVersionString(lv);
      let r = results.get(key);
      if (!r) results.set(key, r = aggregate(this.evaluator.evaluate(lv, meta, spec, ctx)));
      return r;
    };
    const denied = enforce && !run(policy.enforce).allowed;
    const audit = run(policy.audit);
    if (!audit.allowed) {
      this.opts.log.info('PodSecurity audit', {
        [AUDIT_VIOLATIONS_ANNOTATION]: `would violate PodSecurity "${levelVersionString(policy.audit)}": ${forbiddenDetail(audit)}`,
        resource: req.resource.plural, namespace: req.namespace, name: req.name, user: req.user.name, operation: req.operation,
      });
    }
    if (denied) {
      throw errors.forbidden(req.resource.group, req.resource.plural, req.name, `violates PodSecurity "${levelVersionString(policy.enforce)}": ${forbiddenDetail(run(policy.enforce))}`);
    }
    const warn = run(policy.warn);
    if (!warn.allowed) req.warnings?.push(`would violate PodSecurity "${levelVersionString(policy.warn)}": ${forbiddenDetail(warn)}`);
  }

  /**
   * Which runtime handler runs each container: the annotation's, else the pod's RuntimeClass's, else
   * the container's image's.
   */
  private async checkContext(meta: Rec, spec: Rec): Promise<CheckContext> {
    const rc = typeof spec.runtimeClassName === 'string' && spec.runtimeClassName ? spec.runtimeClassName : undefined;
    // Berth's RuntimeClasses are named after their handler; one that does not exist (yet) runs nowhere,
    // and is judged by its name.
    const podHandler = rc ? (await this.opts.lookups.runtimeClassHandler(rc)) ?? rc : undefined;
    return { handlerOf: (name) => runtimeOverride(meta.annotations, name) ?? podHandler ?? handlerForImage(containerNamed(spec, name)?.image) };
  }

  private async validateNamespace(req: AdmissionRequest): Promise<void> {
    if (req.subresource) return;
    const ns = req.object!;
    const { policy, errors: labelErrors } = this.policyOf(ns);
    if (req.operation === 'CREATE') {
      if (labelErrors.length) throw errors.invalid('', 'Namespace', req.name, labelErrors);
      if (this.exemptNamespace(req.name)) this.warnExempt(req, policy);
      return;
    }
    const old = this.policyOf(req.oldObject!);
    if (labelErrors.length && (!old.errors.length || JSON.stringify(labelErrors) !== JSON.stringify(old.errors))) {
      throw errors.invalid('', 'Namespace', req.name, labelErrors);
    }
    const now = policy.enforce;
    const before = old.policy.enforce;
    if (levelVersionString(now) === levelVersionString(before) || now.level === 'privileged') return;
    // Relaxed at the same version: nothing that ran before can violate it now.
    if (versionString(now.version) === versionString(before.version) && compareLevels(now.level, before.level) < 1) return;
    if (this.exemptNamespace(req.name)) return this.warnExempt(req, policy);
    req.warnings?.push(...await this.checkExistingPods(req.name, now));
  }

  /** A namespace Pod Security ignores was given a policy: say it will not apply. */
  private warnExempt(req: AdmissionRequest, policy: Policy): void {
    if (fullyPrivileged(policy) || MODES.every((m) => equivalent(policy[m], this.config.defaults[m]))) return;
    const labels = req.object!.metadata.labels ?? {};
    const set = MODES.filter((m) => policy[m].level !== 'privileged' && (levelLabel(m) in labels || versionLabel(m) in labels))
      .map((m) => `${m}=${levelVersionString(policy[m])}`);
    req.warnings?.push(`namespace "${req.name}" is exempt from Pod Security, and the policy (${set.join(', ')}) will be ignored`);
  }

  /**
   * The namespace's pods against a new enforce level (EvaluatePodsInNamespace): one warning per
   * distinct set of reasons, naming the first pod; one pod per controller first, at most 3,000 pods
   * and about a second.
   */
  private async checkExistingPods(namespace: string, enforce: LevelVersion): Promise<string[]> {
    const deadline = Date.now() + NAMESPACE_POD_CHECK_MS;
    let pods: KubeObject[];
    try {
      pods = prioritize((await this.opts.lookups.pods(namespace)).filter((p) => !this.exemptRuntimeClass(p.spec ?? {})));
    } catch (err) {
      this.opts.log.warn('PodSecurity: cannot list pods', { namespace, error: (err as Error).message });
      return ['failed to list pods while checking new PodSecurity enforce level'];
    }
    const total = pods.length;
    const byReason = new Map<string, { first: string; count: number }>();
    let checked = 0;
    for (const pod of pods.slice(0, NAMESPACE_MAX_PODS)) {
      checked++;
      const r = aggregate(this.evaluator.evaluate(enforce, pod.metadata, pod.spec ?? {}, await this.checkContext(pod.metadata, pod.spec ?? {})));
      if (!r.allowed) {
        const reason = forbiddenReason(r);
        const name = pod.metadata.name ?? '';
        const c = byReason.get(reason);
        if (!c) byReason.set(reason, { first: name, count: 1 });
        else { c.count++; if (name < c.first) c.first = name; }
      }
      if (Date.now() > deadline) break;
    }
    const out: string[] = [];
    if (checked < total) out.push(`new PodSecurity enforce level only checked against the first ${checked} of ${total} existing pods`);
    if (byReason.size) out.push(`existing pods in namespace "${namespace}" violate the new PodSecurity enforce level "${levelVersionString(enforce)}"`);
    const podWarnings = [...byReason].map(([reason, c]) => {
      const others = c.count === 1 ? '' : c.count === 2 ? ' (and 1 other pod)' : ` (and ${c.count - 1} other pods)`;
      return `${c.first}${others}: ${reason}`;
    });
    return [...out, ...podWarnings.sort()];
  }
}

/** One pod per controller first, the other replicas after them (prioritizePods). */
function prioritize(pods: KubeObject[]): KubeObject[] {
  const first: KubeObject[] = [];
  const rest: KubeObject[] = [];
  const seen = new Set<string>();
  for (const p of pods) {
    const owner = p.metadata.ownerReferences?.find((o) => o.controller);
    if (!owner) first.push(p);
    else if (seen.has(owner.uid)) rest.push(p);
    else { seen.add(owner.uid); first.push(p); }
  }
  return [...first, ...rest];
}

/**
 * Only a change of images or of the number of containers can change a pod's verdict
 * (isSignificantPodUpdate) — and, in Berth, of the mutable `runtime.berth.dev/*` annotations, which
 * pick the runtime of the containers' next starts.
 */
function significantPodUpdate(pod: Rec, old: Rec | undefined): boolean {
  if (!old) return true;
  const runtimes = (o: Rec) => JSON.stringify(Object.entries((o.metadata?.annotations ?? {}) as Record<string, string>).filter(([k]) => k.startsWith(RUNTIME_ANNOTATION_PREFIX)).sort());
  if (runtimes(pod) !== runtimes(old)) return true;
  const list = (s: Rec | undefined, k: string): Rec[] => (Array.isArray(s?.[k]) ? s![k] : []);
  for (const k of ['containers', 'initContainers']) {
    const a = list(pod.spec, k);
    const b = list(old.spec, k);
    if (a.length !== b.length) return true;
    if (a.some((c, i) => c?.image !== b[i]?.image)) return true;
  }
  const oldEphemeral = new Map(list(old.spec, 'ephemeralContainers').map((c) => [c?.name, c]));
  return list(pod.spec, 'ephemeralContainers').some((c) => !oldEphemeral.has(c?.name) || oldEphemeral.get(c?.name)?.image !== c?.image);
}
