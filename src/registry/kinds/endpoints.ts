/**
 * Endpoints strategy (ValidateEndpoints): each subset has ready or not-ready addresses with valid,
 * non-special IPs; ports are valid, named when there are several, TCP by default. Also exports the
 * IP checks EndpointSlices and Services share.
 */
import { isIP } from 'node:net';
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { isDNS1123Label, isDNS1123Subdomain, isValidPortNum } from '../../apis/names.ts';

/** Protocols a port may name. */
export const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
export const VALID_IP_MSG = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

function ipv4Octets(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** Expands an IPv6 address to eight 16-bit groups (handles `::` and an embedded IPv4 tail). */
function ipv6Groups(ip: string): number[] {
  let s = ip.split('%')[0];
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (tail) {
    const o = ipv4Octets(tail[1]);
    s = s.slice(0, -tail[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, rest] = s.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined ? (rest ? rest.split(':') : []) : [];
  const fill = rest !== undefined ? Array(8 - h.length - r.length).fill('0') : [];
  return [...h, ...fill, ...r].map((g) => parseInt(g, 16));
}

interface IPClass { unspecified: boolean; loopback: boolean; linkLocal: boolean; llMulticast: boolean }

function classifyV4(o: number[]): IPClass {
  return {
    unspecified: o.every((x) => x === 0),
    loopback: o[0] === 127,
    linkLocal: o[0] === 169 && o[1] === 254,
    llMulticast: o[0] === 224 && o[1] === 0 && o[2] === 0,
  };
}

function classify(ip: string, fam: number): IPClass {
  if (fam === 4) return classifyV4(ipv4Octets(ip));
  const g = ipv6Groups(ip);
  // IPv4-mapped addresses (::ffff:a.b.c.d) are judged as the IPv4 address, as Go's net.IP does.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return classifyV4([g[6] >> 8, g[6] & 255, g[7] >> 8, g[7] & 255]);
  return {
    unspecified: g.every((x) => x === 0),
    loopback: g.slice(0, 7).every((x) => x === 0) && g[7] === 1,
    linkLocal: (g[0] & 0xffc0) === 0xfe80,
    llMulticast: (g[0] & 0xff0f) === 0xff02,
  };
}

/** Kubernetes' ValidateNonSpecialIP: valid, and not unspecified, loopback or link-local. */
export function validateEndpointIP(ip: unknown, path: string): FieldError[] {
  const s = typeof ip === 'string' ? ip : '';
  const fam = isIP(s);
  if (fam === 0) return [fieldError.invalid(path, ip ?? '', VALID_IP_MSG)];
  const c = classify(s, fam);
  const errs: FieldError[] = [];
  if (c.unspecified) errs.push(fieldError.invalid(path, s, `may not be unspecified (${s})`));
  if (c.loopback) errs.push(fieldError.invalid(path, s, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (c.linkLocal) errs.push(fieldError.invalid(path, s, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (c.llMulticast) errs.push(fieldError.invalid(path, s, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

/** Protocol required and one of SCTP/TCP/UDP. */
export function validateProtocol(protocol: unknown, path: string): FieldError[] {
  if (!protocol) return [fieldError.required(path)];
  if (!PORT_PROTOCOLS.includes(protocol as string)) return [fieldError.notSupported(path, protocol, PORT_PROTOCOLS)];
  return [];
}

function validateAddress(a: any, path: string): FieldError[] {
  const errs = validateEndpointIP(a?.ip, `${path}.ip`);
  if (a?.hostname) for (const msg of isDNS1123Label(a.hostname)) errs.push(fieldError.invalid(`${path}.hostname`, a.hostname, msg));
  if (a?.nodeName) for (const msg of isDNS1123Subdomain(a.nodeName)) errs.push(fieldError.invalid(`${path}.nodeName`, a.nodeName, msg));
  return errs;
}

function validateEndpoints(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const subsets: any[] = Array.isArray(obj.subsets) ? obj.subsets : [];
  subsets.forEach((ss, i) => {
    const p = `subsets[${i}]`;
    const addrs: any[] = Array.isArray(ss?.addresses) ? ss.addresses : [];
    const notReady: any[] = Array.isArray(ss?.notReadyAddresses) ? ss.notReadyAddresses : [];
    if (addrs.length === 0 && notReady.length === 0) errs.push(fieldError.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    addrs.forEach((a, j) => errs.push(...validateAddress(a, `${p}.addresses[${j}]`)));
    notReady.forEach((a, j) => errs.push(...validateAddress(a, `${p}.notReadyAddresses[${j}]`)));
    const ports: any[] = Array.isArray(ss?.ports) ? ss.ports : [];
    ports.forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      if (ports.length > 1 && !port?.name) errs.push(fieldError.required(`${pp}.name`));
      else if (port?.name) for (const msg of isDNS1123Label(port.name)) errs.push(fieldError.invalid(`${pp}.name`, port.name, msg));
      for (const msg of isValidPortNum(port?.port)) errs.push(fieldError.invalid(`${pp}.port`, port?.port ?? 0, msg));
      errs.push(...validateProtocol(port?.protocol, `${pp}.protocol`));
    });
  });
  return errs;
}

export const endpointsStrategy: Strategy = {
  defaults(obj) {
    for (const ss of Array.isArray(obj.subsets) ? obj.subsets : []) {
      for (const port of Array.isArray(ss?.ports) ? ss.ports : []) if (port && !port.protocol) port.protocol = 'TCP';
    }
  },
  validate: validateEndpoints,
  validateUpdate: validateEndpoints,
};
