/**
 * Plans the EndpointSlices of one Service with as little churn as the real controller
 * (pkg/controller/endpointslice/reconciler.go): an endpoint stays in the slice it is already in
 * (updated in place when its conditions change), new endpoints fill slices that have room before
 * new slices are made, a slice is rewritten only when its content changes, and each slice holds at
 * most `maxPerSlice` endpoints of one port set. A Service that selects no endpoint keeps one empty
 * placeholder slice, as Kubernetes does, so readers can tell "no endpoints" from "not synced".
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Endpoint, EndpointPort, PodEndpoint } from './endpoint-build.ts';
import { portsKeyOf } from './endpoint-build.ts';

export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface SliceContent {
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

export interface SlicePlan {
  create: SliceContent[];
  /** Existing slices with new content. */
  update: { slice: KubeObject; content: SliceContent }[];
  delete: KubeObject[];
}

const endpointId = (e: Endpoint) => e.targetRef?.uid ?? e.addresses[0]!;
const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function sliceKey(slice: KubeObject): string {
  return portsKeyOf((slice.ports ?? []).map((p: any) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port, appProtocol: p.appProtocol })));
}

export function planSlices(desired: PodEndpoint[], existing: KubeObject[], maxPerSlice = MAX_ENDPOINTS_PER_SLICE): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  // Desired endpoints grouped by port set.
  const groups = new Map<string, { ports: EndpointPort[]; want: Map<string, Endpoint> }>();
  for (const d of desired) {
    let g = groups.get(d.portsKey);
    if (!g) groups.set(d.portsKey, (g = { ports: d.ports, want: new Map() }));
    g.want.set(endpointId(d.endpoint), d.endpoint);
  }
  const byKey = new Map<string, KubeObject[]>();
  for (const s of [...existing].sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)))) {
    const k = sliceKey(s);
    byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  const kept: KubeObject[] = [];
  for (const [key, slices] of byKey) {
    const g = groups.get(key);
    for (const slice of slices) {
      if (!g) { plan.delete.push(slice); continue; }
      const endpoints: Endpoint[] = [];
      for (const e of slice.endpoints ?? []) {
        const id = endpointId(e);
        const next = g.want.get(id);
        if (!next) continue;
        endpoints.push(next);
        g.want.delete(id);
      }
      if (endpoints.length === 0) { plan.delete.push(slice); continue; }
      const content = { ports: g.ports, endpoints };
      if (!sameJson(slice.endpoints, endpoints) || !sameJson(slice.ports ?? [], g.ports)) plan.update.push({ slice, content });
      else kept.push(slice);
    }
  }
  for (const [key, g] of groups) {
    if (g.want.size === 0) continue;
    const rest = [...g.want.values()];
    // Fill slices of this port set that have room (updated ones first: they are written anyway).
    const open = [
      ...plan.update.filter((u) => portsKeyOf(u.content.ports) === key).map((u) => u.content),
      ...kept.filter((s) => sliceKey(s) === key).map((s) => ({ slice: s, content: { ports: g.ports, endpoints: [...(s.endpoints ?? [])] } })),
    ];
    for (const target of open) {
      const content = 'slice' in target ? target.content : target;
      while (rest.length && content.endpoints.length < maxPerSlice) content.endpoints.push(rest.shift()!);
      if ('slice' in target && content.endpoints.length !== (target.slice.endpoints ?? []).length) {
        plan.update.push({ slice: target.slice, content });
        kept.splice(kept.indexOf(target.slice), 1);
      }
    }
    while (rest.length) plan.create.push({ ports: g.ports, endpoints: rest.splice(0, maxPerSlice) });
  }
  // Nothing selected: one empty placeholder slice (reuse an existing one, with no ports).
  if (desired.length === 0) {
    const placeholder = [...plan.delete, ...kept].find((s) => (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0);
    if (placeholder) plan.delete = plan.delete.filter((s) => s !== placeholder);
    else if (plan.delete.length > 0) {
      const reuse = plan.delete.shift()!;
      plan.update.push({ slice: reuse, content: { ports: [], endpoints: [] } });
    } else if (kept.length === 0) plan.create.push({ ports: [], endpoints: [] });
  }
  return plan;
}
