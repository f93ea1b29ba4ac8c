/**
 * Builders of Service and EndpointSlice objects for the proxy's tests and benchmark: just the
 * fields the proxy reads, in the API's shape.
 */
import type { KubeObject } from '../apis/object.ts';
import { SERVICE_NAME_LABEL } from '../apis/well-known.ts';

export interface ServiceSpecInput {
  clusterIP?: string;
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  ports: { name?: string; port: number; targetPort?: number | string; nodePort?: number; protocol?: string }[];
  sessionAffinity?: 'ClientIP' | 'None';
  affinityTimeoutSeconds?: number;
  internalTrafficPolicy?: 'Local' | 'Cluster';
  externalTrafficPolicy?: 'Local' | 'Cluster';
  selector?: Record<string, string>;
}

export function serviceObject(namespace: string, name: string, s: ServiceSpecInput): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { namespace, name, resourceVersion: '1' },
    spec: {
      ...(s.clusterIP ? { clusterIP: s.clusterIP } : {}),
      type: s.type ?? 'ClusterIP',
      ports: s.ports.map((p) => ({ protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? p.port, ...p })),
      ...(s.selector ? { selector: s.selector } : {}),
      ...(s.sessionAffinity ? { sessionAffinity: s.sessionAffinity } : {}),
      ...(s.affinityTimeoutSeconds ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: s.affinityTimeoutSeconds } } } : {}),
      ...(s.internalTrafficPolicy ? { internalTrafficPolicy: s.internalTrafficPolicy } : {}),
      ...(s.externalTrafficPolicy ? { externalTrafficPolicy: s.externalTrafficPolicy } : {}),
    },
  } as KubeObject;
}

export interface EndpointInput {
  ip: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  nodeName?: string;
}

export function sliceObject(namespace: string, service: string, sliceName: string,
  ports: { name?: string; port: number; protocol?: string }[], endpoints: EndpointInput[]): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { namespace, name: sliceName, labels: { [SERVICE_NAME_LABEL]: service }, resourceVersion: '1' },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ protocol: p.protocol ?? 'TCP', ...(p.name !== undefined ? { name: p.name } : {}), port: p.port })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ...(e.ready !== undefined ? { ready: e.ready } : {}),
        ...(e.serving !== undefined ? { serving: e.serving } : {}),
        ...(e.terminating !== undefined ? { terminating: e.terminating } : {}),
      },
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
    })),
  } as KubeObject;
}
