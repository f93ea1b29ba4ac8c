/**
 * Node strategy (pkg/registry/core/node): nodes may be created with status (the node agent
 * registers itself); taints are validated; podCIDR(s) and providerID only go from unset to set.
 * What the API server later dials — the agent URL annotation and the kubelet endpoint port — must
 * be usable (a value stored before this check may stay while unchanged).
 */
import { isIP } from 'node:net';
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { isQualifiedName, isValidLabelValue } from '../../apis/names.ts';
import { AGENT_URL_ANNOTATION } from '../../apis/well-known.ts';

/** The taint effects Kubernetes accepts. */
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** Validates a list of taints at `path` (key, value, effect, unique by key+effect). */
export function validateTaints(taints: unknown, path: string): FieldError[] {
  if (taints === undefined || taints === null) return [];
  if (!Array.isArray(taints)) return [fieldError.invalid(path, taints, 'must be a list')];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  taints.forEach((t: any, i: number) => {
    const p = `${path}[${i}]`;
    const key = String(t?.key ?? '');
    for (const msg of isQualifiedName(key)) errs.push(fieldError.invalid(`${p}.key`, key, msg));
    const value = String(t?.value ?? '');
    const vErrs = isValidLabelValue(value);
    if (vErrs.length) errs.push(fieldError.invalid(`${p}.value`, value, vErrs.join(';')));
    const effect = t?.effect ?? '';
    if (!effect) errs.push(fieldError.required(`${p}.effect`));
    else if (!TAINT_EFFECTS.includes(effect)) errs.push(fieldError.notSupported(`${p}.effect`, effect, TAINT_EFFECTS));
    const id = `${effect}\u0000${key}`;
    if (seen.has(id)) {
      errs.push({ type: 'FieldValueDuplicate', field: p, message: `Duplicate value: ${JSON.stringify(t)}: taints must be unique by key and effect pair` });
    }
    seen.add(id);
  });
  return errs;
}

function isValidCIDR(value: string): boolean {
  const m = /^(.+)\/(\d{1,3})$/.exec(value);
  if (!m) return false;
  const fam = isIP(m[1]);
  const bits = Number(m[2]);
  return fam === 4 ? bits <= 32 : fam === 6 ? bits <= 128 : false;
}

/** Why `value` is no URL the API server can dial an agent at (http or https, a host, nothing else); [] if it is. */
export function agentUrlProblems(value: unknown): string[] {
  if (typeof value !== 'string') return ['must be a string'];
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return ['must be an absolute URL, e.g. http://10.0.0.5:10250'];
  }
  const errs: string[] = [];
  if (u.protocol !== 'http:' && u.protocol !== 'https:') errs.push('scheme must be http or https');
  if (!u.hostname) errs.push('must name a host');
  if (u.username || u.password) errs.push('must not carry credentials');
  if (u.pathname !== '/' || u.search || u.hash) errs.push('must not have a path, query or fragment');
  return errs;
}

/** The agent annotation and the kubelet port, checked when new or changed (`old` on update). */
function validateAgentEndpoint(obj: KubeObject, old?: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const url = obj.metadata?.annotations?.[AGENT_URL_ANNOTATION];
  if (url !== undefined && url !== old?.metadata?.annotations?.[AGENT_URL_ANNOTATION]) {
    for (const msg of agentUrlProblems(url)) errs.push(fieldError.invalid(`metadata.annotations[${AGENT_URL_ANNOTATION}]`, url, msg));
  }
  const port = obj.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (port !== undefined && port !== null && port !== old?.status?.daemonEndpoints?.kubeletEndpoint?.Port
    && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    errs.push(fieldError.invalid('status.daemonEndpoints.kubeletEndpoint.Port', port, 'must be between 0 and 65535, inclusive'));
  }
  return errs;
}

function validateNode(obj: KubeObject, old?: KubeObject): FieldError[] {
  const errs = validateTaints(obj.spec?.taints, 'spec.taints');
  errs.push(...validateAgentEndpoint(obj, old));
  const cidrs: unknown[] = Array.isArray(obj.spec?.podCIDRs) ? obj.spec.podCIDRs : [];
  cidrs.forEach((c, i) => {
    if (typeof c !== 'string' || !isValidCIDR(c)) {
      errs.push(fieldError.invalid(`spec.podCIDRs[${i}]`, c, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
    }
  });
  if (cidrs.length > 2 || (cidrs.length === 2 && isIP(String(cidrs[0]).split('/')[0]) === isIP(String(cidrs[1]).split('/')[0]))) {
    errs.push(fieldError.invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
  }
  return errs;
}

function validateNodeUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateNode(obj, old);
  const oldCidrs: string[] = old.spec?.podCIDRs ?? [];
  const newCidrs: string[] = obj.spec?.podCIDRs ?? [];
  // The allocator may assign a CIDR once; after that it is fixed.
  if (oldCidrs.length > 0 && (oldCidrs.length !== newCidrs.length || oldCidrs.some((c, i) => c !== newCidrs[i]))) {
    errs.push(fieldError.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  }
  if (old.spec?.providerID && old.spec.providerID !== obj.spec?.providerID) {
    errs.push(fieldError.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  const addrs: any[] = Array.isArray(obj.status?.addresses) ? obj.status.addresses : [];
  const seen = new Set<string>();
  addrs.forEach((a, i) => {
    const id = `${a?.type}\u0000${a?.address}`;
    if (seen.has(id)) errs.push(fieldError.duplicate(`status.addresses[${i}]`, a));
    seen.add(id);
  });
  return errs;
}

export const nodeStrategy: Strategy = {
  defaults(obj) {
    obj.spec ??= {};
    // podCIDR is the legacy single-value mirror of podCIDRs[0].
    if (obj.spec.podCIDR && !(obj.spec.podCIDRs?.length > 0)) obj.spec.podCIDRs = [obj.spec.podCIDR];
    else if (!obj.spec.podCIDR && obj.spec.podCIDRs?.length > 0) obj.spec.podCIDR = obj.spec.podCIDRs[0];
    if (obj.status?.capacity && !obj.status.allocatable) obj.status.allocatable = { ...obj.status.capacity };
  },
  validate: (obj) => validateNode(obj),
  validateUpdate: validateNodeUpdate,
  validateStatusUpdate: validateNodeUpdate,
};
