/**
 * The one Client interface every component talks through: controllers, scheduler and node agents.
 * Two implementations: in-process (`local-client.ts`, straight onto the Registry, no HTTP — used by
 * `berth up` and `berth server`) and HTTP (`http-client.ts`, for remote agents and simulators).
 */
import type { KubeObject } from '../apis/object.ts';

/** Names a resource collection: `{ group: 'apps', version: 'v1', resource: 'deployments' }`. */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
  /** The token of the previous page (with `limit`): the next page of the same list, at its revision. */
  continue?: string;
}

export interface WatchOptions extends ListOptions {
  /** Start after this revision; empty: initial ADDED events for what exists, then changes. */
  resourceVersion?: string;
  allowBookmarks?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ClientWatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export interface ClientWatch {
  close(): void;
  /** Resolves when the watch ends (closed, server-side end, or error). */
  done: Promise<void>;
}

export interface ObjectList {
  items: KubeObject[];
  resourceVersion: string;
  /** Set when a limited list has more: pass it as `continue` for the next page. */
  continue?: string;
}

export type PatchType = 'merge' | 'strategic' | 'json';

/** Subresources written with PUT/PATCH: status, and a CSR's approval. */
export type UpdateSubresource = 'status' | 'approval';

export interface Client {
  get(ref: ResourceRef, namespace: string | undefined, name: string): Promise<KubeObject>;
  list(ref: ResourceRef, namespace: string | undefined, opts?: ListOptions): Promise<ObjectList>;
  watch(ref: ResourceRef, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: ClientWatchEvent) => void): Promise<ClientWatch>;
  create(ref: ResourceRef, namespace: string | undefined, obj: KubeObject, subresource?: string): Promise<KubeObject>;
  update(ref: ResourceRef, namespace: string | undefined, obj: KubeObject, subresource?: UpdateSubresource): Promise<KubeObject>;
  patch(ref: ResourceRef, namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: UpdateSubresource): Promise<KubeObject>;
  delete(ref: ResourceRef, namespace: string | undefined, name: string, opts?: { gracePeriodSeconds?: number; propagationPolicy?: string; preconditions?: { uid?: string } }): Promise<void>;
}

/** Refs for the resources the agent and controllers use most. */
export const R = {
  pods: { group: '', version: 'v1', resource: 'pods' },
  nodes: { group: '', version: 'v1', resource: 'nodes' },
  events: { group: '', version: 'v1', resource: 'events' },
  configmaps: { group: '', version: 'v1', resource: 'configmaps' },
  secrets: { group: '', version: 'v1', resource: 'secrets' },
  namespaces: { group: '', version: 'v1', resource: 'namespaces' },
  services: { group: '', version: 'v1', resource: 'services' },
  endpoints: { group: '', version: 'v1', resource: 'endpoints' },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
  persistentvolumeclaims: { group: '', version: 'v1', resource: 'persistentvolumeclaims' },
  persistentvolumes: { group: '', version: 'v1', resource: 'persistentvolumes' },
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' },
  runtimeclasses: { group: 'node.k8s.io', version: 'v1', resource: 'runtimeclasses' },
} as const satisfies Record<string, ResourceRef>;
