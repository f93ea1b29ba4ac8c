/**
 * The `kube-system/kube-dns` Service that gives the embedded DNS server a stable ClusterIP (the
 * tenth address of the service CIDR, as k3s and kubeadm clusters have it), with a hand-made
 * EndpointSlice and Endpoints pointing at the address the DNS server listens on. Pods' resolv.conf
 * names the ClusterIP; the node's service proxy DNATs it to that address.
 *
 *   pod ─▶ 10.43.0.10:53 ─(service proxy DNAT)─▶ <dns listen address>:53 ─▶ embedded DNS server
 *
 * Idempotent: an existing Service keeps its identity; the endpoints are rewritten when the DNS
 * address changes (e.g. another pod CIDR).
 */
import type { KubeObject } from '../apis/object.ts';
import type { UserInfo } from '../auth/attributes.ts';
import { R, type Client, type ResourceRef } from '../client/client.ts';
import { isAlreadyExists, isNotFound } from '../client/errors.ts';
import { nthAddress } from '../apis/cidr.ts';
import { SERVICE_NAME_LABEL, MANAGED_BY_LABEL } from '../apis/well-known.ts';

export const DNS_SERVICE = { namespace: 'kube-system', name: 'kube-dns' };

/**
 * Whom the embedded DNS server reads the API as: the kube-system/kube-dns ServiceAccount, which
 * the default ClusterRoleBinding system:kube-dns binds to list and watch what DNS answers from.
 */
export const DNS_USER: UserInfo = {
  name: 'system:serviceaccount:kube-system:kube-dns',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};
const MANAGED_BY = 'berth-server';

/** The kube-dns ClusterIP for a service CIDR: its tenth address. */
export function dnsServiceIP(serviceCidr: string): string {
  return nthAddress(serviceCidr, 10);
}

const PORTS = [
  { name: 'dns', port: 53, protocol: 'UDP' },
  { name: 'dns-tcp', port: 53, protocol: 'TCP' },
];

async function upsert(client: Client, ref: ResourceRef, body: KubeObject, same: (cur: KubeObject) => boolean): Promise<void> {
  const { namespace, name } = body.metadata as { namespace: string; name: string };
  let cur: KubeObject | undefined;
  try { cur = await client.get(ref, namespace, name); } catch (err) { if (!isNotFound(err)) throw err; }
  if (!cur) {
    try { await client.create(ref, namespace, body); return; } catch (err) { if (!isAlreadyExists(err)) throw err; }
    cur = await client.get(ref, namespace, name);
  }
  if (same(cur)) return;
  await client.update(ref, namespace, { ...body, metadata: { ...cur.metadata, labels: body.metadata.labels } });
}

/**
 * Ensures the kube-dns Service and its endpoints (`dnsAddress`: where the DNS server listens, port
 * 53; several with several servers, each running one).
 */
export async function ensureDnsService(client: Client, serviceCidr: string, dnsAddress: string | string[]): Promise<string> {
  const addresses = [...new Set(Array.isArray(dnsAddress) ? dnsAddress : [dnsAddress])].sort();
  const { namespace, name } = DNS_SERVICE;
  const ip = dnsServiceIP(serviceCidr);
  const labels = { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS', 'kubernetes.io/cluster-service': 'true' };
  let svc: KubeObject | undefined;
  try { svc = await client.get(R.services, namespace, name); } catch (err) { if (!isNotFound(err)) throw err; }
  if (!svc) {
    try {
      svc = await client.create(R.services, namespace, {
        apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, labels },
        spec: { clusterIP: ip, ports: PORTS.map((p) => ({ ...p, targetPort: 53 })) },
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      svc = await client.get(R.services, namespace, name);
    }
  }
  const endpoints = addresses.map((a) => ({ addresses: [a], conditions: { ready: true, serving: true, terminating: false } }));
  await upsert(client, R.endpointslices, {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${name}-berth`, namespace, labels: { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY } },
    addressType: 'IPv4', endpoints, ports: PORTS,
  }, (cur) => JSON.stringify(cur.endpoints) === JSON.stringify(endpoints));
  await upsert(client, R.endpoints, {
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels },
    subsets: [{ addresses: addresses.map((ip) => ({ ip })), ports: PORTS }],
  }, (cur) => JSON.stringify((cur.subsets?.[0]?.addresses ?? []).map((a: { ip: string }) => a.ip)) === JSON.stringify(addresses));
  return svc!.spec.clusterIP;
}
