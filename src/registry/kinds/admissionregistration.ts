/**
 * MutatingWebhookConfiguration and ValidatingWebhookConfiguration (admissionregistration.k8s.io/v1;
 * pkg/apis/admissionregistration/v1/defaults.go and validation/validation.go): defaults (failurePolicy
 * Fail, matchPolicy Equivalent, empty selectors, timeout 10 s, service port 443, rule scope `*`,
 * reinvocationPolicy Never) and the checks the API server makes before a webhook can be called —
 * the admission plugin (../admission/webhook/) trusts what is stored.
 */
import type { KubeObject } from '../../apis/object.ts';
import { isObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isDNS1123Subdomain } from '../../apis/names.ts';
import type { Strategy } from '../types.ts';
import { validateLabelSelector } from '../validation/label-selector.ts';

type Rec = Record<string, any>;

const OPERATIONS = ['*', 'CREATE', 'UPDATE', 'DELETE', 'CONNECT'];
const SCOPES = ['Cluster', 'Namespaced', '*'];
const FAILURE_POLICIES = ['Ignore', 'Fail'];
const MATCH_POLICIES = ['Exact', 'Equivalent'];
const SIDE_EFFECTS_V1 = ['None', 'NoneOnDryRun'];
const REINVOCATION = ['Never', 'IfNeeded'];
const REVIEW_VERSIONS = ['v1', 'v1beta1'];

function defaultWebhook(w: Rec, mutating: boolean): void {
  w.failurePolicy ??= 'Fail';
  w.matchPolicy ??= 'Equivalent';
  w.namespaceSelector ??= {};
  w.objectSelector ??= {};
  w.timeoutSeconds ??= 10;
  if (mutating) w.reinvocationPolicy ??= 'Never';
  if (isObject(w.clientConfig?.service)) w.clientConfig.service.port ??= 443;
  for (const r of Array.isArray(w.rules) ? w.rules : []) if (isObject(r)) r.scope ??= '*';
}

/** A webhook's name: a fully qualified DNS name (at least three segments), as upstream. */
function validateWebhookName(name: unknown, path: string): FieldError[] {
  if (typeof name !== 'string' || name === '') return [fieldError.required(path, '')];
  const errs = isDNS1123Subdomain(name).map((m) => fieldError.invalid(path, name, m));
  if (!errs.length && name.split('.').length < 3) errs.push(fieldError.invalid(path, name, 'should be a domain with at least three segments separated by dots'));
  return errs;
}

function validateClientConfig(cc: unknown, path: string): FieldError[] {
  if (!isObject(cc)) return [fieldError.required(path, '')];
  const c = cc as Rec;
  if ((c.url === undefined) === (c.service === undefined)) return [fieldError.required(path, 'exactly one of url or service is required')];
  if (c.url !== undefined) {
    let u: URL;
    try { u = new URL(String(c.url)); } catch { return [fieldError.invalid(`${path}.url`, c.url, 'host must be specified')]; }
    if (u.protocol !== 'https:') return [fieldError.invalid(`${path}.url`, c.url, "'https' is the only allowed URL scheme")];
    if (u.username || u.password) return [fieldError.invalid(`${path}.url`, c.url, 'user information is not permitted in the URL')];
    if (u.hash || String(c.url).includes('#')) return [fieldError.invalid(`${path}.url`, c.url, 'fragments are not permitted in the URL')];
    if (u.search) return [fieldError.invalid(`${path}.url`, c.url, 'query parameters are not permitted in the URL')];
    return [];
  }
  const s = c.service as Rec;
  const errs: FieldError[] = [];
  if (!s?.name) errs.push(fieldError.required(`${path}.service.name`, 'service name is required'));
  if (!s?.namespace) errs.push(fieldError.required(`${path}.service.namespace`, 'service namespace is required'));
  if (s?.port !== undefined && (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)) {
    errs.push(fieldError.invalid(`${path}.service.port`, s.port, 'port is not valid: must be between 1 and 65535, inclusive'));
  }
  if (s?.path !== undefined && (typeof s.path !== 'string' || !s.path.startsWith('/'))) errs.push(fieldError.invalid(`${path}.service.path`, s.path, "must start with a '/'"));
  return errs;
}

function validateRule(rule: unknown, path: string): FieldError[] {
  const r = (isObject(rule) ? rule : {}) as Rec;
  const errs: FieldError[] = [];
  const list = (key: string): string[] | undefined => {
    const v = r[key];
    if (!Array.isArray(v) || v.length === 0) { errs.push(fieldError.required(`${path}.${key}`, '')); return undefined; }
    return v as string[];
  };
  const ops = list('operations');
  ops?.forEach((o, i) => { if (!OPERATIONS.includes(o)) errs.push(fieldError.notSupported(`${path}.operations[${i}]`, o, OPERATIONS)); });
  if (ops && ops.includes('*') && ops.length > 1) errs.push(fieldError.invalid(`${path}.operations`, ops, 'if \'*\' is present, must not specify other operations'));
  list('apiGroups');
  list('apiVersions');
  const resources = list('resources');
  resources?.forEach((res, i) => {
    if (typeof res !== 'string' || res === '') errs.push(fieldError.required(`${path}.resources[${i}]`, ''));
    else if (res.split('/').length > 2) errs.push(fieldError.invalid(`${path}.resources[${i}]`, res, 'resource name and subresource name must be separated by a single \'/\''));
  });
  if (r.scope !== undefined && !SCOPES.includes(r.scope)) errs.push(fieldError.notSupported(`${path}.scope`, r.scope, SCOPES));
  return errs;
}

function validateWebhook(w: unknown, path: string, mutating: boolean): FieldError[] {
  if (!isObject(w)) return [fieldError.required(path, '')];
  const h = w as Rec;
  const errs = [...validateWebhookName(h.name, `${path}.name`), ...validateClientConfig(h.clientConfig, `${path}.clientConfig`)];
  (Array.isArray(h.rules) ? h.rules : []).forEach((r: unknown, i: number) => errs.push(...validateRule(r, `${path}.rules[${i}]`)));
  const versions: unknown[] = Array.isArray(h.admissionReviewVersions) ? h.admissionReviewVersions : [];
  if (versions.length === 0) errs.push(fieldError.required(`${path}.admissionReviewVersions`, `must specify one of ${REVIEW_VERSIONS.join(', ')}`));
  else if (!versions.some((v) => REVIEW_VERSIONS.includes(v as string))) errs.push(fieldError.invalid(`${path}.admissionReviewVersions`, versions, `must include at least one of ${REVIEW_VERSIONS.join(', ')}`));
  if (h.sideEffects === undefined || h.sideEffects === null) errs.push(fieldError.required(`${path}.sideEffects`, `must specify one of ${SIDE_EFFECTS_V1.join(', ')}`));
  else if (!SIDE_EFFECTS_V1.includes(h.sideEffects)) errs.push(fieldError.notSupported(`${path}.sideEffects`, h.sideEffects, SIDE_EFFECTS_V1));
  if (!FAILURE_POLICIES.includes(h.failurePolicy)) errs.push(fieldError.notSupported(`${path}.failurePolicy`, h.failurePolicy, FAILURE_POLICIES));
  if (!MATCH_POLICIES.includes(h.matchPolicy)) errs.push(fieldError.notSupported(`${path}.matchPolicy`, h.matchPolicy, MATCH_POLICIES));
  if (mutating && !REINVOCATION.includes(h.reinvocationPolicy)) errs.push(fieldError.notSupported(`${path}.reinvocationPolicy`, h.reinvocationPolicy, REINVOCATION));
  if (!Number.isInteger(h.timeoutSeconds) || h.timeoutSeconds < 1 || h.timeoutSeconds > 30) {
    errs.push(fieldError.invalid(`${path}.timeoutSeconds`, h.timeoutSeconds, 'the timeout value must be between 1 and 30 seconds'));
  }
  errs.push(...validateLabelSelector(h.namespaceSelector, `${path}.namespaceSelector`), ...validateLabelSelector(h.objectSelector, `${path}.objectSelector`));
  if (h.matchConditions !== undefined) errs.push(fieldError.forbidden(`${path}.matchConditions`, 'matchConditions are not supported by this server yet'));
  return errs;
}

function validateConfiguration(obj: KubeObject, mutating: boolean): FieldError[] {
  const hooks: unknown[] = Array.isArray(obj.webhooks) ? obj.webhooks : [];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  hooks.forEach((w, i) => {
    errs.push(...validateWebhook(w, `webhooks[${i}]`, mutating));
    const name = (w as Rec)?.name;
    if (typeof name === 'string') {
      if (seen.has(name)) errs.push(fieldError.duplicate(`webhooks[${i}].name`, name));
      seen.add(name);
    }
  });
  return errs;
}

function strategy(mutating: boolean): Strategy {
  return {
    defaults(obj: KubeObject): void {
      for (const w of Array.isArray(obj.webhooks) ? obj.webhooks : []) if (isObject(w)) defaultWebhook(w as Rec, mutating);
    },
    validate: (obj: KubeObject) => validateConfiguration(obj, mutating),
  };
}

export const mutatingWebhookConfigurationStrategy = strategy(true);
export const validatingWebhookConfigurationStrategy = strategy(false);
