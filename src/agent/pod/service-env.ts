/**
 * Service link environment variables, as the kubelet's getServiceEnvVarMap and
 * pkg/kubelet/envvars FromServices build them: for `default/kubernetes` always
 * (KUBERNETES_SERVICE_HOST/PORT — how in-cluster clients find the API server), and for every Service
 * of the pod's own namespace unless `enableServiceLinks: false` — each with a ClusterIP gets
 *
 *   <NAME>_SERVICE_HOST, <NAME>_SERVICE_PORT, <NAME>_SERVICE_PORT_<PORT NAME>   (named ports)
 *   <NAME>_PORT=tcp://ip:port (first port), <NAME>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]   (Docker links)
 *
 * NAME is the Service name upper-cased with `-` as `_`. A Service of the pod's namespace wins over
 * `default/kubernetes` when both are named `kubernetes`.
 */
import type { KubeObject } from '../../apis/object.ts';

const MASTER_NAMESPACE = 'default';
const MASTER_SERVICES = new Set(['kubernetes']);

/** A Service with a usable ClusterIP (not headless, not ExternalName). */
function hasClusterIP(svc: KubeObject): boolean {
  const ip = svc.spec?.clusterIP;
  return typeof ip === 'string' && ip !== '' && ip !== 'None' && Array.isArray(svc.spec?.ports) && svc.spec.ports.length > 0;
}

const envName = (s: string) => s.toUpperCase().replaceAll('-', '_');

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The variables of one Service (FromServices + makeLinkVariables). */
function serviceVars(svc: KubeObject, out: Record<string, string>): void {
  const prefix = envName(svc.metadata.name!);
  const ip: string = svc.spec.clusterIP;
  const ports = svc.spec.ports as { name?: string; port: number; protocol?: string }[];
  out[`${prefix}_SERVICE_HOST`] = ip;
  out[`${prefix}_SERVICE_PORT`] = String(ports[0].port);
  for (const p of ports) if (p.name) out[`${prefix}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
  ports.forEach((p, i) => {
    const protocol = (p.protocol || 'TCP').toUpperCase();
    const url = `${protocol.toLowerCase()}://${hostPort(ip, p.port)}`;
    if (i === 0) out[`${prefix}_PORT`] = url;
    const pp = `${prefix}_PORT_${p.port}_${protocol}`;
    out[pp] = url;
    out[`${pp}_PROTO`] = protocol.toLowerCase();
    out[`${pp}_PORT`] = String(p.port);
    out[`${pp}_ADDR`] = ip;
  });
}

/** The service link variables of `pod`, from the Services the node knows (`services`: any namespaces). */
export function serviceLinkEnv(pod: KubeObject, services: readonly KubeObject[]): Record<string, string> {
  const ns = pod.metadata.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks !== false;
  const chosen = new Map<string, KubeObject>();
  for (const svc of services) {
    if (!hasClusterIP(svc)) continue;
    const name = svc.metadata.name!;
    if (svc.metadata.namespace === MASTER_NAMESPACE && MASTER_SERVICES.has(name)) {
      if (!chosen.has(name)) chosen.set(name, svc);
    } else if (svc.metadata.namespace === ns && links) {
      chosen.set(name, svc);
    }
  }
  const out: Record<string, string> = {};
  // Sorted, so the environment does not depend on the cache's order.
  for (const name of [...chosen.keys()].sort()) serviceVars(chosen.get(name)!, out);
  return out;
}
