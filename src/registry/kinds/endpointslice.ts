/**
 * EndpointSlice strategy (discovery.k8s.io/v1, ValidateEndpointSlice): addressType required,
 * one of IPv4/IPv6/FQDN and immutable; ≤ 1000 endpoints of 1–100 addresses valid for the type;
 * ports named by DNS labels, unique, TCP by default.
 */
import { isIP } from 'node:net';
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidPortNum } from '../../apis/names.ts';
import { validateEndpointIP, validateProtocol } from './endpoints.ts';

export const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;

const tooMany = (field: string, max: number, has: number): FieldError => ({
  type: 'FieldValueTooMany', field, message: `Too many: ${has}: must have at most ${max} items`,
});

function validateAddress(type: string, address: unknown, path: string): FieldError[] {
  const s = typeof address === 'string' ? address : '';
  switch (type) {
    case 'IPv4': {
      const errs = validateEndpointIP(address, path);
      if (isIP(s) !== 4) errs.push(fieldError.invalid(path, s, 'must be an IPv4 address'));
      return errs;
    }
    case 'IPv6': {
      const errs = validateEndpointIP(address, path);
      if (isIP(s) !== 6) errs.push(fieldError.invalid(path, s, 'must be an IPv6 address'));
      return errs;
    }
    case 'FQDN': {
      const errs: FieldError[] = [];
      if (!s) return [fieldError.required(path)];
      for (const msg of isDNS1123Subdomain(s.replace(/\.$/, ''))) errs.push(fieldError.invalid(path, s, msg));
      if (s.replace(/\.$/, '').split('.').length < 2) errs.push(fieldError.invalid(path, s, 'should be a domain with at least two segments separated by dots'));
      return errs;
    }
    default: return [];
  }
}

function validateSlice(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const type = obj.addressType;
  if (!type) errs.push(fieldError.required('addressType'));
  else if (!ADDRESS_TYPES.includes(type)) errs.push(fieldError.notSupported('addressType', type, ADDRESS_TYPES));

  const endpoints: any[] = Array.isArray(obj.endpoints) ? obj.endpoints : [];
  if (endpoints.length > MAX_ENDPOINTS) errs.push(tooMany('endpoints', MAX_ENDPOINTS, endpoints.length));
  endpoints.forEach((ep, i) => {
    const p = `endpoints[${i}]`;
    const addrs: unknown[] = Array.isArray(ep?.addresses) ? ep.addresses : [];
    if (addrs.length === 0) errs.push(fieldError.required(`${p}.addresses`, 'must contain at least 1 address'));
    else if (addrs.length > MAX_ADDRESSES) errs.push(tooMany(`${p}.addresses`, MAX_ADDRESSES, addrs.length));
    // Only the first address is used by consumers, but all must be valid.
    addrs.forEach((a, j) => errs.push(...validateAddress(type, a, `${p}.addresses[${j}]`)));
    if (ep?.nodeName) for (const msg of isDNS1123Subdomain(ep.nodeName)) errs.push(fieldError.invalid(`${p}.nodeName`, ep.nodeName, msg));
    if (ep?.hostname) for (const msg of isDNS1123Label(ep.hostname)) errs.push(fieldError.invalid(`${p}.hostname`, ep.hostname, msg));
  });

  const ports: any[] = Array.isArray(obj.ports) ? obj.ports : [];
  if (ports.length > MAX_PORTS) errs.push(tooMany('ports', MAX_PORTS, ports.length));
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = `ports[${i}]`;
    const name = port?.name ?? '';
    if (name) for (const msg of isDNS1123Label(name)) errs.push(fieldError.invalid(`${p}.name`, name, msg));
    if (names.has(name)) errs.push(fieldError.duplicate(`${p}.name`, name));
    names.add(name);
    errs.push(...validateProtocol(port?.protocol, `${p}.protocol`));
    if (port?.port !== undefined && port?.port !== null) {
      for (const msg of isValidPortNum(port.port)) errs.push(fieldError.invalid(`${p}.port`, port.port, msg));
    }
    if (port?.appProtocol) for (const msg of isQualifiedName(port.appProtocol)) errs.push(fieldError.invalid(`${p}.appProtocol`, port.appProtocol, msg));
  });
  return errs;
}

export const endpointSliceStrategy: Strategy = {
  defaults(obj) {
    for (const port of Array.isArray(obj.ports) ? obj.ports : []) {
      if (!port) continue;
      if (port.name === undefined || port.name === null) port.name = '';
      if (!port.protocol) port.protocol = 'TCP';
    }
  },
  validate: validateSlice,
  validateUpdate(obj, old) {
    const errs = validateSlice(obj);
    if ((obj.addressType ?? '') !== (old.addressType ?? '')) errs.push(fieldError.immutable('addressType', obj.addressType ?? ''));
    return errs;
  },
};
