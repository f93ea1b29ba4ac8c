/**
 * Ingresses and IngressClasses (networking.k8s.io/v1; pkg/apis/networking/validation:
 * ValidateIngress, ValidateIngressClass). Berth ships no ingress controller — as Kubernetes, it
 * serves the kinds so charts and manifests apply and a controller of the user's choice reads them.
 */
import { isIP } from 'node:net';
import type { KubeObject } from '../../apis/object.ts';
import { isObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isDNS1035Label, isDNS1123Subdomain, isQualifiedName, isValidPortName } from '../../apis/names.ts';

type Rec = Record<string, any>;
const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'];

/** A host or TLS host: a DNS subdomain, optionally with a leading `*.` wildcard; never an IP. */
function validateHost(host: unknown, path: string): FieldError[] {
  if (typeof host !== 'string') return [fieldError.invalid(path, host, 'must be a string')];
  if (isIP(host)) return [fieldError.invalid(path, host, 'must be a DNS name, not an IP address')];
  const name = host.startsWith('*.') ? host.slice(2) : host;
  return isDNS1123Subdomain(name).map((m) => fieldError.invalid(path, host, m));
}

function validateBackend(b: unknown, path: string): FieldError[] {
  if (!isObject(b)) return [fieldError.required(path, '')];
  const backend = b as Rec;
  if (backend.service && backend.resource) return [fieldError.invalid(path, '', 'cannot set both `service` and `resource` backends')];
  if (backend.resource) {
    const r = backend.resource as Rec;
    const errs: FieldError[] = [];
    if (!r.kind) errs.push(fieldError.required(`${path}.resource.kind`, ''));
    if (!r.name) errs.push(fieldError.required(`${path}.resource.name`, ''));
    return errs;
  }
  if (!isObject(backend.service)) return [fieldError.invalid(path, '', 'one backend (`service` or `resource`) must be specified')];
  const svc = backend.service as Rec;
  const errs: FieldError[] = [];
  if (!svc.name) errs.push(fieldError.required(`${path}.service.name`, ''));
  else for (const m of isDNS1035Label(String(svc.name))) errs.push(fieldError.invalid(`${path}.service.name`, svc.name, m));
  const port = svc.port as Rec | undefined;
  const hasName = typeof port?.name === 'string' && port.name !== '';
  const hasNumber = typeof port?.number === 'number' && port.number !== 0;
  if (hasName && hasNumber) errs.push(fieldError.invalid(`${path}.service.port`, port, 'cannot set both port name & port number'));
  else if (hasName) for (const m of isValidPortName(port!.name)) errs.push(fieldError.invalid(`${path}.service.port.name`, port!.name, m));
  else if (hasNumber) {
    if (!Number.isInteger(port!.number) || port!.number < 1 || port!.number > 65535) {
      errs.push(fieldError.invalid(`${path}.service.port.number`, port!.number, 'must be between 1 and 65535, inclusive'));
    }
  } else errs.push(fieldError.required(`${path}.service.port`, 'port name or number is required'));
  return errs;
}

/** ValidateIngressSpec. */
export function validateIngressSpec(spec: unknown): FieldError[] {
  if (!isObject(spec)) return [fieldError.required('spec', '')];
  const s = spec as Rec;
  const errs: FieldError[] = [];
  const rules: unknown[] = Array.isArray(s.rules) ? s.rules : [];
  if (!s.defaultBackend && rules.length === 0) errs.push(fieldError.invalid('spec', spec, 'either `defaultBackend` or `rules` must be specified'));
  if (s.defaultBackend) errs.push(...validateBackend(s.defaultBackend, 'spec.defaultBackend'));
  if (s.ingressClassName !== undefined && s.ingressClassName !== null) {
    for (const m of isDNS1123Subdomain(String(s.ingressClassName))) errs.push(fieldError.invalid('spec.ingressClassName', s.ingressClassName, m));
  }
  rules.forEach((rule, i) => {
    const p = `spec.rules[${i}]`;
    const r = (rule ?? {}) as Rec;
    if (r.host) errs.push(...validateHost(r.host, `${p}.host`));
    if (!r.http) return;
    const paths: unknown[] = Array.isArray(r.http.paths) ? r.http.paths : [];
    if (paths.length === 0) errs.push(fieldError.required(`${p}.http.paths`, ''));
    paths.forEach((hp, j) => {
      const pp = `${p}.http.paths[${j}]`;
      const h = (hp ?? {}) as Rec;
      if (!h.pathType) errs.push(fieldError.required(`${pp}.pathType`, 'pathType must be specified'));
      else if (!PATH_TYPES.includes(h.pathType)) errs.push(fieldError.notSupported(`${pp}.pathType`, h.pathType, PATH_TYPES));
      else if (h.pathType !== 'ImplementationSpecific' || h.path) {
        if (typeof h.path !== 'string' || !h.path.startsWith('/')) errs.push(fieldError.invalid(`${pp}.path`, h.path ?? '', 'must be an absolute path'));
      }
      errs.push(...validateBackend(h.backend, `${pp}.backend`));
    });
  });
  (Array.isArray(s.tls) ? s.tls : []).forEach((t: Rec, i: number) => {
    (Array.isArray(t?.hosts) ? t.hosts : []).forEach((h: unknown, j: number) => errs.push(...validateHost(h, `spec.tls[${i}].hosts[${j}]`)));
  });
  return errs;
}

export const ingressStrategy: Strategy = {
  prepareForCreate(obj: KubeObject): void {
    obj.status = {};
  },
  validate(obj: KubeObject) {
    return validateIngressSpec(obj.spec);
  },
};

/** ValidateIngressClassSpec: a domain-prefixed controller name, immutable. */
export function validateIngressClassSpec(spec: unknown): FieldError[] {
  const controller = isObject(spec) ? (spec as Rec).controller : undefined;
  if (!controller) return [fieldError.required('spec.controller', '')];
  if (typeof controller !== 'string' || controller.length > 250) return [fieldError.tooLong('spec.controller', controller, 250)];
  const [domain, ...rest] = controller.split('/');
  if (rest.length === 0 || isDNS1123Subdomain(domain).length > 0 || rest.some((seg) => isQualifiedName(seg).length > 0 && seg !== '')) {
    return [fieldError.invalid('spec.controller', controller, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  }
  return [];
}

export const ingressClassStrategy: Strategy = {
  validate(obj: KubeObject) {
    return validateIngressClassSpec(obj.spec);
  },
  validateUpdate(obj: KubeObject, old: KubeObject) {
    return obj.spec?.controller === old.spec?.controller ? [] : [fieldError.invalid('spec.controller', obj.spec?.controller, 'field is immutable')];
  },
};
