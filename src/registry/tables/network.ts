/**
 * `kubectl get` columns for services, endpoints, endpointslices, ingresses and ingressclasses
 * (printers.go printService, printEndpoints, printEndpointSlice, printIngress, printIngressClass).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { TableConvertor } from '../types.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col, formatLabels, listWithMore } from './format.ts';

const LOAD_BALANCER_WIDTH = 16;

function loadBalancerIngress(svc: KubeObject, wide: boolean): string {
  const set = new Set<string>();
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    if (ing?.ip) set.add(ing.ip);
    else if (ing?.hostname) set.add(ing.hostname);
  }
  let r = [...set].sort().join(',');
  if (!wide && r.length > LOAD_BALANCER_WIDTH) r = `${r.slice(0, LOAD_BALANCER_WIDTH - 3)}...`;
  return r;
}

/**
 * EXTERNAL-IP cell. The server renders as for `-o wide` (no clipping), as the apiserver's
 * table convertor does.
 */
export function serviceExternalIP(svc: KubeObject, wide = true): string {
  const externalIPs: string[] = Array.isArray(svc.spec?.externalIPs) ? svc.spec.externalIPs : [];
  switch (svc.spec?.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngress(svc, wide);
      if (externalIPs.length) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** PORT(S) cell: `80/TCP,443:30443/TCP`, `<none>` without ports. */
export function servicePorts(svc: KubeObject): string {
  const ports: any[] = Array.isArray(svc.spec?.ports) ? svc.spec.ports : [];
  const s = ports
    .map((p) => {
      const proto = p?.protocol ?? 'TCP';
      return p?.nodePort > 0 ? `${p.port}:${p.nodePort}/${proto}` : `${p?.port}/${proto}`;
    })
    .join(',');
  return s || '<none>';
}

export const serviceTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Type', 'string', false, 'type determines how the Service is exposed.'),
    col('Cluster-IP', 'string', false, 'clusterIP is the IP address of the service.'),
    col('External-IP', 'string', false, 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    col('Port(s)', 'string', false, 'The list of ports that are exposed by this service.'),
    AGE_COLUMN,
    col('Selector', 'string', true, 'Route service traffic to pods with label keys and values matching this selector.'),
  ],
  cells(svc, now) {
    const clusterIPs: string[] = Array.isArray(svc.spec?.clusterIPs) ? svc.spec.clusterIPs : [];
    const clusterIP = clusterIPs[0] || svc.spec?.clusterIP || '<none>';
    return [
      svc.metadata.name, svc.spec?.type ?? 'ClusterIP', clusterIP, serviceExternalIP(svc), servicePorts(svc),
      age(svc, now), formatLabels(svc.spec?.selector),
    ];
  },
};

/** `host:port` for IPv4, `[host]:port` for IPv6 (net.JoinHostPort). */
const joinHostPort = (ip: string, port: unknown): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** ENDPOINTS cell: `10.0.0.1:80,10.0.0.2:80 + 3 more...`, `<none>` without subsets. */
export function formatEndpoints(ep: KubeObject): string {
  const subsets: any[] = Array.isArray(ep.subsets) ? ep.subsets : [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let count = 0;
  for (const ss of subsets) {
    const addrs: any[] = Array.isArray(ss?.addresses) ? ss.addresses : [];
    const ports: any[] = Array.isArray(ss?.ports) ? ss.ports : [];
    if (ports.length === 0) {
      // Headless services may have no ports.
      count += addrs.length;
      for (const a of addrs) if (list.length < max) list.push(a?.ip ?? '');
      continue;
    }
    for (const p of ports) {
      count += addrs.length;
      for (const a of addrs) if (list.length < max) list.push(joinHostPort(a?.ip ?? '', p?.port));
    }
  }
  const s = list.join(',');
  return count > max ? `${s} + ${count - max} more...` : s;
}

export const endpointsTable: TableConvertor = {
  columns: [NAME_COLUMN, col('Endpoints', 'string', false, 'The set of all endpoints is the union of all subsets.'), AGE_COLUMN],
  cells(ep, now) {
    return [ep.metadata.name, formatEndpoints(ep), age(ep, now)];
  },
};

export const endpointSliceTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('AddressType', 'string', false, 'addressType specifies the type of address carried by this EndpointSlice.'),
    col('Ports', 'string', false, 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
    col('Endpoints', 'string', false, 'endpoints is a list of unique endpoints in this slice.'),
    AGE_COLUMN,
  ],
  cells(es, now) {
    const ports: any[] = Array.isArray(es.ports) ? es.ports : [];
    const portCells = ports.map((p) => (typeof p?.port === 'number' ? String(p.port) : p?.name != null ? String(p.name) : '*'));
    const addrs: string[] = [];
    for (const e of Array.isArray(es.endpoints) ? es.endpoints : []) {
      for (const a of Array.isArray(e?.addresses) ? e.addresses : []) addrs.push(a);
    }
    return [es.metadata.name, es.addressType ?? '', listWithMore(portCells), listWithMore(addrs), age(es, now)];
  },
};

/** HOSTS cell: the first three rule hosts, `* ` when none names one (formatHosts). */
function ingressHosts(rules: unknown): string {
  const list: string[] = [];
  const all: any[] = Array.isArray(rules) ? rules : [];
  let more = false;
  for (const rule of all) {
    if (list.length === 3) more = true;
    if (!more && rule?.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${all.length - 3} more...` : list.join(',');
}

export const ingressTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Class', 'string', false, 'The name of the IngressClass resource that should be used for this Ingress.'),
    col('Hosts', 'string', false, 'Hosts that incoming requests are matched against before the ingress rule'),
    col('Address', 'string', false, 'Address is a list containing ingress points for the load-balancer'),
    col('Ports', 'string', false, 'Ports of TLS configurations that open'),
    AGE_COLUMN,
  ],
  cells(ing, now) {
    return [
      ing.metadata.name, ing.spec?.ingressClassName ?? '<none>', ingressHosts(ing.spec?.rules),
      loadBalancerIngress(ing, true), Array.isArray(ing.spec?.tls) && ing.spec.tls.length ? '80, 443' : '80', age(ing, now),
    ];
  },
};

export const ingressClassTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Controller', 'string', false, 'Controller that is responsible for handling this class'),
    col('Parameters', 'string', false, 'A reference to a resource with additional parameters'),
    AGE_COLUMN,
  ],
  cells(ic, now) {
    const p = ic.spec?.parameters;
    const params = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
    return [ic.metadata.name, ic.spec?.controller ?? '', params, age(ic, now)];
  },
};
