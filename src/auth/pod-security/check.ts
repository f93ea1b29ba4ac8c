/**
 * One Pod Security check and its result (k8s.io/pod-security-admission/policy: checks.go,
 * helpers.go, visitor.go): a check belongs to a level, has one function per policy version it
 * changed in, and says why a pod (or a pod template) is refused. The wording helpers are upstream's,
 * so messages read as Kubernetes' do.
 */
import { version, type Level, type Version } from './policy-level.ts';

/** Pod JSON as stored: fields are read defensively (a template may be partial). */
export type Rec = Record<string, any>;

export interface CheckResult {
  allowed: boolean;
  /** Short and always shown: `host namespaces`, `privileged`. */
  forbiddenReason?: string;
  /** The specifics, shown in parentheses: `container "c" must not set securityContext.privileged=true`. */
  forbiddenDetail?: string;
}

/**
 * What a check may know beyond the pod: Berth asks which runtime handler runs each container
 * (a `process` container is a host process), resolved from the pod's RuntimeClass before evaluation.
 */
export interface CheckContext {
  handlerOf(containerName: string): string;
}

export type CheckPodFn = (meta: Rec, spec: Rec, ctx: CheckContext) => CheckResult;

export interface VersionedCheck {
  /** The first policy version this function applies to (numbered, never `latest`). */
  minimumVersion: Version & { latest: false };
  checkPod: CheckPodFn;
  /** Restricted checks only: the baseline checks this one replaces (from this version on). */
  overrides?: string[];
}

export interface Check {
  id: string;
  level: Exclude<Level, 'privileged'>;
  /** Strictly increasing minimum versions. */
  versions: VersionedCheck[];
}

/** A check's minimum version: v1.`minor`. */
export function since(minor: number): VersionedCheck['minimumVersion'] {
  return version(minor) as VersionedCheck['minimumVersion'];
}

export const ALLOWED: CheckResult = Object.freeze({ allowed: true });

export function forbid(reason: string, detail: string): CheckResult {
  return { allowed: false, forbiddenReason: reason, forbiddenDetail: detail };
}

/** The refusals of several checks, in order (AggregateCheckResult). */
export interface AggregateResult {
  allowed: boolean;
  reasons: string[];
  details: string[];
}

export function aggregate(results: CheckResult[]): AggregateResult {
  const reasons: string[] = [];
  const details: string[] = [];
  for (const r of results) {
    if (r.allowed) continue;
    reasons.push(r.forbiddenReason || 'unknown forbidden reason');
    details.push(r.forbiddenDetail ?? '');
  }
  return { allowed: reasons.length === 0, reasons, details };
}

/** `host ports, privileged` — the reasons alone (used for existing pods of a namespace). */
export function forbiddenReason(a: AggregateResult): string {
  return a.reasons.join(', ');
}

/** `host namespaces (hostNetwork=true), privileged (container "c" must not set …)`. */
export function forbiddenDetail(a: AggregateResult): string {
  return a.reasons.map((r, i) => (a.details[i] ? `${r} (${a.details[i]})` : r)).join(', ');
}

/** `"a", "b"` */
export function joinQuote(items: readonly string[]): string {
  return items.length ? `"${items.join('", "')}"` : '';
}

export function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** `container "c"` / `containers "a", "b"`. */
export function containersPhrase(names: readonly string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

/** Sorted distinct values, as Go's sets.String.List(). */
export function sortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

function asList(v: unknown): Rec[] {
  return Array.isArray(v) ? v.filter((x): x is Rec => !!x && typeof x === 'object') : [];
}

/** Every container of a spec: init containers, containers, ephemeral containers (visitContainers). */
export function containersOf(spec: Rec): Rec[] {
  return [...asList(spec.initContainers), ...asList(spec.containers), ...asList(spec.ephemeralContainers)];
}

/** A container's name for messages. */
export function nameOf(c: Rec): string {
  return typeof c.name === 'string' ? c.name : '';
}

/** The pod's securityContext, or an empty one. */
export function podSecurityContext(spec: Rec): Rec {
  return spec.securityContext && typeof spec.securityContext === 'object' ? spec.securityContext : {};
}

/** A container's securityContext, or undefined. */
export function securityContextOf(c: Rec): Rec | undefined {
  return c.securityContext && typeof c.securityContext === 'object' ? c.securityContext : undefined;
}

/** spec.os.name == windows: the checks Windows pods cannot satisfy skip them from v1.25 on. */
export function isWindows(spec: Rec): boolean {
  return spec.os?.name === 'windows';
}
