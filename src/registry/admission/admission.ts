/**
 * Admission, as kube-apiserver's admission chain: after a request is authenticated and authorized,
 * and before anything is stored, plugins see the object and who sends it. Mutating plugins (`admit`)
 * may change the object (a ServiceAccount's token volume); validating plugins (`validate`) may only
 * refuse (Pod Security, RBAC escalation, NodeRestriction). A refusal is an ApiError (403 Forbidden
 * usually), and nothing is written. Dry runs are admitted like real writes.
 *
 *   create/update: admit (mutating, in order) ─▶ defaults + strategy validation ─▶ validate (in order) ─▶ store
 *   delete:        validate (the object being deleted as oldObject)
 */
import type { KubeObject } from '../../apis/object.ts';
import type { ResourceInfo } from '../../apis/resources.ts';
import type { UserInfo } from '../../auth/attributes.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** What a plugin sees (admission.Attributes). */
export interface AdmissionRequest {
  operation: Operation;
  resource: ResourceInfo;
  /** '' for the main resource; `status`, `binding`, `eviction`… */
  subresource: string;
  namespace: string;
  name: string;
  /** The object being written (mutable in `admit`); absent on DELETE. */
  object?: KubeObject;
  /** The stored object on UPDATE and DELETE. */
  oldObject?: KubeObject;
  user: UserInfo;
  dryRun: boolean;
  /** Where a plugin adds Warning headers for the client (Pod Security's warn mode); absent: nobody listens. */
  warnings?: string[];
}

export interface AdmissionPlugin {
  /** The plugin's name as kube-apiserver's --enable-admission-plugins would give it. */
  readonly name: string;
  /** Mutating admission: may change `req.object`; throws an ApiError to refuse. */
  admit?(req: AdmissionRequest): void | Promise<void>;
  /** Validating admission: must not change anything; throws an ApiError to refuse. */
  validate?(req: AdmissionRequest): void | Promise<void>;
}

/**
 * The identity of writes Berth makes for itself with no request behind them (bootstrap objects,
 * the API server's own loopback calls): kube-apiserver's `system:apiserver` in `system:masters`.
 */
export const SYSTEM_USER: UserInfo = Object.freeze({ name: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] }) as UserInfo;

/** The plugins of one API server, run in order. */
export class AdmissionChain {
  constructor(readonly plugins: readonly AdmissionPlugin[] = []) {}

  /**
   * Runs the mutating plugins. Synchronous while every plugin answers synchronously — most writes
   * (bindings, Events, Leases) concern no plugin, and an async chain cost a promise per write and
   * per plugin (~8 % of the API server's allocation in bench sched's binding window); a plugin's
   * promise makes the rest run after it. Callers: `const p = chain.admit(req); if (p) await p;` —
   * a refusal may come as a throw, not only as a rejected promise.
   */
  admit(req: AdmissionRequest): void | Promise<void> {
    return runFrom(this.plugins, 'admit', req, 0);
  }

  /** Runs the validating plugins; synchronous as long as they are (see admit). */
  validate(req: AdmissionRequest): void | Promise<void> {
    return runFrom(this.plugins, 'validate', req, 0);
  }

  /** A chain with `more` plugins after these. */
  with(...more: AdmissionPlugin[]): AdmissionChain {
    return new AdmissionChain([...this.plugins, ...more]);
  }
}

/** Runs `phase` of plugins[from…] in order: synchronously until a plugin returns a promise, after it once it settles. */
function runFrom(plugins: readonly AdmissionPlugin[], phase: 'admit' | 'validate', req: AdmissionRequest, from: number): void | Promise<void> {
  for (let i = from; i < plugins.length; i++) {
    const p = plugins[i];
    const pending = p[phase]?.(req);
    if (pending) return pending.then(() => runFrom(plugins, phase, req, i + 1));
  }
}
