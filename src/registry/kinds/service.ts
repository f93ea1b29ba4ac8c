/**
 * Service strategy (pkg/apis/core/v1/defaults.go SetDefaults_Service, ValidateService[Update] and
 * the service REST's field-keeping on update). Berth is IPv4 single-stack. ClusterIP and nodePort
 * allocation are not done here: values a client gives are validated, unset ones stay unset.
 */
import { isIP } from 'node:net';
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidPortName, isValidPortNum } from '../../apis/names.ts';
import { validateLabels } from '../validation/object-meta.ts';
import { VALID_IP_MSG, validateProtocol } from './endpoints.ts';

export const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const AFFINITIES = ['ClientIP', 'None'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const MAX_AFFINITY_SECONDS = 86400;
const DEFAULT_AFFINITY_SECONDS = 10800;

const usesNodePorts = (t: unknown) => t === 'NodePort' || t === 'LoadBalancer';
/** NodePort/LoadBalancer, or a ClusterIP service with externalIPs: externalTrafficPolicy applies. */
const externallyAccessible = (spec: any) => usesNodePorts(spec?.type)
  || ((spec?.type ?? 'ClusterIP') === 'ClusterIP' && Array.isArray(spec?.externalIPs) && spec.externalIPs.length > 0);
const needsClusterIP = (svc: KubeObject) => (svc.spec?.type ?? 'ClusterIP') !== 'ExternalName';
/** Headless: a ClusterIP service whose clusterIP is "None". */
export const isHeadless = (svc: KubeObject) => (svc.spec?.type ?? 'ClusterIP') === 'ClusterIP' && svc.spec?.clusterIP === 'None';

function applyDefaults(obj: KubeObject): void {
  const spec = (obj.spec ??= {});
  if (!spec.type) spec.type = 'ClusterIP';
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'ClientIP' && !spec.sessionAffinityConfig?.clientIP?.timeoutSeconds) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_AFFINITY_SECONDS } };
  }
  for (const port of Array.isArray(spec.ports) ? spec.ports : []) {
    if (!port) continue;
    if (!port.protocol) port.protocol = 'TCP';
    if (port.targetPort === undefined || port.targetPort === null || port.targetPort === 0 || port.targetPort === '') {
      port.targetPort = port.port;
    }
  }
  if (externallyAccessible(spec) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) spec.allocateLoadBalancerNodePorts = true;
  if (spec.type !== 'ExternalName') {
    if (!spec.internalTrafficPolicy) spec.internalTrafficPolicy = 'Cluster';
    // clusterIP and clusterIPs[0] mirror each other.
    if (spec.clusterIP && !(Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0)) spec.clusterIPs = [spec.clusterIP];
    else if (!spec.clusterIP && Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0) spec.clusterIP = spec.clusterIPs[0];
    if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = 'SingleStack';
    if (!(Array.isArray(spec.ipFamilies) && spec.ipFamilies.length > 0)) spec.ipFamilies = ['IPv4'];
  }
  obj.status ??= {};
  obj.status.loadBalancer ??= {};
}

function validatePort(port: any, i: number, requireName: boolean, names: Set<string>): FieldError[] {
  const p = `spec.ports[${i}]`;
  const errs: FieldError[] = [];
  const name = port?.name ?? '';
  if (requireName && !name) errs.push(fieldError.required(`${p}.name`));
  else if (name) {
    for (const msg of isDNS1123Label(name)) errs.push(fieldError.invalid(`${p}.name`, name, msg));
    if (names.has(name)) errs.push(fieldError.duplicate(`${p}.name`, name));
    names.add(name);
  }
  for (const msg of isValidPortNum(port?.port)) errs.push(fieldError.invalid(`${p}.port`, port?.port ?? 0, msg));
  errs.push(...validateProtocol(port?.protocol, `${p}.protocol`));
  const tp = port?.targetPort;
  if (typeof tp === 'string') for (const msg of isValidPortName(tp)) errs.push(fieldError.invalid(`${p}.targetPort`, tp, msg));
  else for (const msg of isValidPortNum(tp)) errs.push(fieldError.invalid(`${p}.targetPort`, tp ?? 0, msg));
  const np = port?.nodePort;
  // Range and uniqueness against the cluster are the allocator's job; here only the number's shape.
  if (np !== undefined && np !== null && np !== 0) {
    for (const msg of isValidPortNum(np)) errs.push(fieldError.invalid(`${p}.nodePort`, np, msg));
  }
  if (port?.appProtocol) for (const msg of isQualifiedName(port.appProtocol)) errs.push(fieldError.invalid(`${p}.appProtocol`, port.appProtocol, msg));
  return errs;
}

function validateClusterIPs(spec: any): FieldError[] {
  const errs: FieldError[] = [];
  const ips: unknown[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  if (spec.clusterIP && ips.length > 0 && ips[0] !== spec.clusterIP) {
    errs.push(fieldError.invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  }
  if (ips.length > 2) errs.push(fieldError.invalid('spec.clusterIPs', ips, 'may only hold up to 2 values'));
  const families: unknown[] = Array.isArray(spec.ipFamilies) ? spec.ipFamilies : [];
  ips.forEach((ip, i) => {
    if (ip === 'None') {
      if (i !== 0 || ips.length > 1) errs.push(fieldError.invalid('spec.clusterIPs', ips, "'None' must be the first and only value"));
      return;
    }
    const fam = isIP(typeof ip === 'string' ? ip : '');
    if (fam === 0) { errs.push(fieldError.invalid(`spec.clusterIPs[${i}]`, ip, VALID_IP_MSG)); return; }
    const want = families[i];
    if (want && want !== `IPv${fam}`) {
      errs.push(fieldError.invalid(`spec.clusterIPs[${i}]`, ip, `expected an ${want} value as indicated by \`ipFamilies[${i}]\``));
    }
  });
  if (spec.ipFamilyPolicy && !IP_FAMILY_POLICIES.includes(spec.ipFamilyPolicy)) {
    errs.push(fieldError.notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, IP_FAMILY_POLICIES));
  }
  const seen = new Set<unknown>();
  families.forEach((f, i) => {
    if (!IP_FAMILIES.includes(f as string)) errs.push(fieldError.notSupported(`spec.ipFamilies[${i}]`, f, IP_FAMILIES));
    else if (seen.has(f)) errs.push(fieldError.duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  if (families.length > 2) errs.push(fieldError.invalid('spec.ipFamilies', families, 'may only hold up to 2 values'));
  if (spec.ipFamilyPolicy === 'SingleStack' && (ips.length > 1 || families.length > 1)) {
    errs.push(fieldError.invalid(ips.length > 1 ? 'spec.clusterIPs' : 'spec.ipFamilies', ips.length > 1 ? ips : families,
      "must be 'SingleStack' with one value only; use 'PreferDualStack' or 'RequireDualStack' for more"));
  }
  // Berth's service network is IPv4 only.
  if (families.includes('IPv6')) errs.push(fieldError.invalid('spec.ipFamilies', families, 'IPv6 is not configured on this cluster'));
  return errs;
}

function validateService(obj: KubeObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  const ports: any[] = Array.isArray(spec.ports) ? spec.ports : [];
  const type = spec.type;

  if (!type) errs.push(fieldError.required('spec.type'));
  else if (!SERVICE_TYPES.includes(type)) errs.push(fieldError.notSupported('spec.type', type, SERVICE_TYPES));

  if (ports.length === 0 && !isHeadless(obj) && type !== 'ExternalName') errs.push(fieldError.required('spec.ports'));

  if (type === 'ExternalName') {
    if (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0) errs.push(fieldError.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (Array.isArray(spec.ipFamilies) && spec.ipFamilies.length > 0) errs.push(fieldError.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy) errs.push(fieldError.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    const name = String(spec.externalName ?? '').replace(/\.$/, '');
    if (!name) errs.push(fieldError.required('spec.externalName'));
    else for (const msg of isDNS1123Subdomain(name)) errs.push(fieldError.invalid('spec.externalName', name, msg));
  } else {
    errs.push(...validateClusterIPs(spec));
  }
  if (type === 'LoadBalancer' && spec.clusterIP === 'None') {
    errs.push(fieldError.invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for LoadBalancer services"));
  }
  if (type === 'NodePort' && spec.clusterIP === 'None') {
    errs.push(fieldError.invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for NodePort services"));
  }

  const names = new Set<string>();
  ports.forEach((port, i) => errs.push(...validatePort(port, i, ports.length > 1, names)));
  const seenPorts = new Set<string>();
  const seenNodePorts = new Set<string>();
  ports.forEach((port, i) => {
    if ((type === 'ClusterIP' || type === 'ExternalName') && port?.nodePort) {
      errs.push(fieldError.forbidden(`spec.ports[${i}].nodePort`, `may not be used when \`type\` is '${type}'`));
    }
    const key = `${port?.protocol}/${port?.port}`;
    if (seenPorts.has(key)) errs.push(fieldError.duplicate(`spec.ports[${i}]`, { port: port?.port, protocol: port?.protocol }));
    seenPorts.add(key);
    if (port?.nodePort) {
      const nk = `${port.protocol}/${port.nodePort}`;
      if (seenNodePorts.has(nk)) errs.push(fieldError.duplicate(`spec.ports[${i}].nodePort`, port.nodePort));
      seenNodePorts.add(nk);
    }
  });

  if (spec.selector) errs.push(...validateLabels(spec.selector, 'spec.selector'));

  if (!spec.sessionAffinity) errs.push(fieldError.required('spec.sessionAffinity'));
  else if (!AFFINITIES.includes(spec.sessionAffinity)) errs.push(fieldError.notSupported('spec.sessionAffinity', spec.sessionAffinity, AFFINITIES));
  if (spec.sessionAffinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (!(typeof t === 'number' && t > 0 && t <= MAX_AFFINITY_SECONDS)) {
      errs.push(fieldError.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t ?? 0, `must be greater than 0 and less than ${MAX_AFFINITY_SECONDS}`));
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig) {
    errs.push(fieldError.invalid('spec.sessionAffinityConfig', spec.sessionAffinityConfig, 'must not be set when session affinity is None'));
  }

  (Array.isArray(spec.externalIPs) ? spec.externalIPs : []).forEach((ip: unknown, i: number) => {
    if (isIP(typeof ip === 'string' ? ip : '') === 0) errs.push(fieldError.invalid(`spec.externalIPs[${i}]`, ip, VALID_IP_MSG));
  });

  if (externallyAccessible(spec)) {
    if (!spec.externalTrafficPolicy) errs.push(fieldError.required('spec.externalTrafficPolicy'));
    else if (!TRAFFIC_POLICIES.includes(spec.externalTrafficPolicy)) {
      errs.push(fieldError.notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, TRAFFIC_POLICIES));
    }
  } else if (spec.externalTrafficPolicy) {
    errs.push(fieldError.invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  }
  if (spec.healthCheckNodePort && !(type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local')) {
    errs.push(fieldError.invalid('spec.healthCheckNodePort', spec.healthCheckNodePort,
      'may only be set when `type` is \'LoadBalancer\' and `externalTrafficPolicy` is \'Local\''));
  }
  if (type !== 'ExternalName') {
    if (!spec.internalTrafficPolicy) errs.push(fieldError.required('spec.internalTrafficPolicy'));
    else if (!TRAFFIC_POLICIES.includes(spec.internalTrafficPolicy)) {
      errs.push(fieldError.notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, TRAFFIC_POLICIES));
    }
  }
  if (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) errs.push(fieldError.required('spec.allocateLoadBalancerNodePorts'));
  if (type !== 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null) {
    errs.push(fieldError.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  return errs;
}

/** Primary clusterIP may not change (nor be dropped) once set, except to/from ExternalName. */
function validateClusterIPsUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  if (!needsClusterIP(obj) || !needsClusterIP(old)) return [];
  if (isHeadless(obj) && isHeadless(old)) return [];
  const n: string[] = obj.spec?.clusterIPs ?? [];
  const o: string[] = old.spec?.clusterIPs ?? [];
  const errs: FieldError[] = [];
  if (o.length === n.length) {
    o.forEach((ip, i) => { if (ip !== n[i]) errs.push(fieldError.invalid(`spec.clusterIPs[${i}]`, n, 'may not change once set')); });
  } else if (o.length > n.length) {
    if (n.length === 0) errs.push(fieldError.invalid('spec.clusterIPs[0]', n, 'primary clusterIP can not be unset'));
    else if (n[0] !== o[0]) errs.push(fieldError.invalid('spec.clusterIPs[0]', n, 'may not change once set'));
  } else if (o.length > 0 && n[0] !== o[0]) {
    errs.push(fieldError.invalid('spec.clusterIPs[0]', n, 'may not change once set'));
  }
  return errs;
}

/**
 * Carries allocated values over an update that omits them (as kubectl apply/replace do), and drops
 * fields the new type no longer allows — the service REST's patchAllocatedValues and
 * dropTypeDependentFields.
 */
function keepAllocatedValues(obj: KubeObject, old: KubeObject): void {
  const spec = (obj.spec ??= {});
  const os = old.spec ?? {};
  if (needsClusterIP(obj) && needsClusterIP(old)) {
    if (!spec.clusterIP && os.clusterIP) spec.clusterIP = os.clusterIP;
    if (!(Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0) && os.clusterIPs?.length > 0 && spec.clusterIP === os.clusterIP) {
      spec.clusterIPs = [...os.clusterIPs];
    }
  }
  if (usesNodePorts(spec.type) && usesNodePorts(os.type)) {
    const oldPorts: any[] = Array.isArray(os.ports) ? os.ports : [];
    const taken = new Set((spec.ports ?? []).map((p: any) => p?.nodePort).filter(Boolean));
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (!p || p.nodePort) continue;
      const match = oldPorts.find((q) => q?.nodePort && q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (match && !taken.has(match.nodePort)) { p.nodePort = match.nodePort; taken.add(match.nodePort); }
    }
    if (!spec.healthCheckNodePort && os.healthCheckNodePort && spec.externalTrafficPolicy === 'Local' && spec.type === 'LoadBalancer') {
      spec.healthCheckNodePort = os.healthCheckNodePort;
    }
  }
  if (spec.type === 'ExternalName' && os.type !== 'ExternalName') {
    // Only clear what the client left as it was; a changed value is the client's and gets validated.
    if (spec.clusterIP === os.clusterIP) delete spec.clusterIP;
    if (JSON.stringify(spec.clusterIPs) === JSON.stringify(os.clusterIPs)) delete spec.clusterIPs;
    if (JSON.stringify(spec.ipFamilies) === JSON.stringify(os.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === os.ipFamilyPolicy) delete spec.ipFamilyPolicy;
    if (spec.internalTrafficPolicy === os.internalTrafficPolicy) delete spec.internalTrafficPolicy;
  }
  if (!usesNodePorts(spec.type) && usesNodePorts(os.type)) {
    const oldPorts: any[] = Array.isArray(os.ports) ? os.ports : [];
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (p?.nodePort && oldPorts.some((q) => q?.nodePort === p.nodePort)) delete p.nodePort;
    }
    if (!externallyAccessible(spec) && spec.externalTrafficPolicy === os.externalTrafficPolicy) delete spec.externalTrafficPolicy;
    if (spec.healthCheckNodePort === os.healthCheckNodePort) delete spec.healthCheckNodePort;
  }
  if (spec.type !== 'LoadBalancer' && os.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === os.allocateLoadBalancerNodePorts) {
    delete spec.allocateLoadBalancerNodePorts;
  }
}

export const serviceStrategy: Strategy = {
  defaults: applyDefaults,
  prepareForCreate(obj) {
    obj.status = { loadBalancer: {} };
  },
  prepareForUpdate(obj, old) {
    keepAllocatedValues(obj, old);
    // Defaults may have run before the carry-over; re-apply so mirrors stay consistent.
    applyDefaults(obj);
  },
  validate: validateService,
  validateUpdate(obj, old) {
    return [...validateService(obj), ...validateClusterIPsUpdate(obj, old)];
  },
};
