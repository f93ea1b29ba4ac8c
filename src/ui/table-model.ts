/**
 * The live table's model, apart from the DOM (kubectl get's printer columns, in the browser): the
 * columns of a kind, sorting, a text filter, and which slice of rows a scrolled viewport shows — the
 * table renders only that slice (plus a little overscan), so 30,000 pods keep a few dozen rows in
 * the DOM (the Kubernetes Dashboard rendered them all and crashed near 1,600).
 */
import type { Obj } from './object-store.ts';
import { podStatusWord } from './pod-reasons.ts';

export interface Column {
  title: string;
  value(o: Obj): string | number;
  /** Numbers sort numerically. */
  numeric?: boolean;
}

export function age(ts: string | undefined, now = Date.now()): string {
  const t = Date.parse(ts ?? '');
  if (!t) return '';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const ready = (o: Obj) => {
  const cs = (o.status?.containerStatuses ?? []) as any[];
  return `${cs.filter((c) => c.ready).length}/${(o.spec?.containers ?? cs).length}`;
};
const restarts = (o: Obj) => ((o.status?.containerStatuses ?? []) as any[]).reduce((n, c) => n + (c.restartCount ?? 0), 0);
const nodeReady = (o: Obj) => {
  const c = ((o.status?.conditions ?? []) as any[]).find((x) => x.type === 'Ready');
  return `${c?.status === 'True' ? 'Ready' : 'NotReady'}${o.spec?.unschedulable ? ',SchedulingDisabled' : ''}`;
};

const NAME: Column = { title: 'Name', value: (o) => o.metadata.name };
const NAMESPACE: Column = { title: 'Namespace', value: (o) => o.metadata.namespace ?? '' };
const AGE: Column = { title: 'Age', value: (o) => -Date.parse(o.metadata.creationTimestamp ?? '') || 0, numeric: true };

const BY_RESOURCE: Record<string, Column[]> = {
  pods: [
    { title: 'Ready', value: ready },
    { title: 'Status', value: podStatusWord },
    { title: 'Restarts', value: restarts, numeric: true },
    { title: 'Node', value: (o) => o.spec?.nodeName ?? '' },
    { title: 'IP', value: (o) => o.status?.podIP ?? '' },
  ],
  nodes: [
    { title: 'Status', value: nodeReady },
    { title: 'Pod CIDR', value: (o) => o.spec?.podCIDR ?? '' },
    { title: 'Version', value: (o) => o.status?.nodeInfo?.kubeletVersion ?? '' },
  ],
  deployments: [
    { title: 'Ready', value: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}` },
    { title: 'Up-to-date', value: (o) => o.status?.updatedReplicas ?? 0, numeric: true },
    { title: 'Available', value: (o) => o.status?.availableReplicas ?? 0, numeric: true },
  ],
  statefulsets: [{ title: 'Ready', value: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}` }],
  replicasets: [{ title: 'Ready', value: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}` }],
  daemonsets: [{ title: 'Ready', value: (o) => `${o.status?.numberReady ?? 0}/${o.status?.desiredNumberScheduled ?? 0}` }],
  services: [
    { title: 'Type', value: (o) => o.spec?.type ?? '' },
    { title: 'Cluster IP', value: (o) => o.spec?.clusterIP ?? '' },
    { title: 'Ports', value: (o) => ((o.spec?.ports ?? []) as any[]).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') },
  ],
  events: [
    { title: 'Type', value: (o) => String((o as any).type ?? '') },
    { title: 'Reason', value: (o) => String((o as any).reason ?? '') },
    { title: 'Object', value: (o) => `${(o as any).involvedObject?.kind ?? ''}/${(o as any).involvedObject?.name ?? ''}` },
    { title: 'Message', value: (o) => String((o as any).message ?? '') },
  ],
  persistentvolumeclaims: [
    { title: 'Status', value: (o) => o.status?.phase ?? '' },
    { title: 'Volume', value: (o) => o.spec?.volumeName ?? '' },
  ],
};

/** The columns of a resource's table; namespaced kinds get a Namespace column. */
export function columnsFor(resource: string, namespaced: boolean): Column[] {
  return [NAME, ...(namespaced ? [NAMESPACE] : []), ...(BY_RESOURCE[resource] ?? []), AGE];
}

export interface ViewState {
  sortBy: string;
  descending: boolean;
  /** Words every shown row contains (in any column), case-insensitive. */
  filter: string;
}

/** The rows to show: filtered, then sorted (ties by namespace/name) — all at once; RowIndex (row-index.ts) keeps the same order incrementally. */
export function visibleRows(objects: readonly Obj[], columns: readonly Column[], view: ViewState): Obj[] {
  const words = view.filter.toLowerCase().split(/\s+/).filter(Boolean);
  let rows = objects as Obj[];
  if (words.length) {
    rows = rows.filter((o) => {
      const text = columns.map((c) => String(c.value(o))).join(' ').toLowerCase();
      return words.every((w) => text.includes(w));
    });
  }
  const col = columns.find((c) => c.title === view.sortBy) ?? columns[0];
  const keyed = rows.map((o) => ({ o, k: col.value(o), n: `${o.metadata.namespace ?? ''}/${o.metadata.name}` }));
  const dir = view.descending ? -1 : 1;
  keyed.sort((a, b) => {
    const c = col.numeric ? (Number(a.k) || 0) - (Number(b.k) || 0) : naturalOrder.compare(String(a.k), String(b.k));
    return c !== 0 ? c * dir : naturalOrder.compare(a.n, b.n);
  });
  return keyed.map((x) => x.o);
}

/**
 * Text order with numbers as numbers (web-9 before web-10). One collator: localeCompare with
 * options builds a new one per call, which made sorting 30,000 rows take hundreds of ms.
 */
export const naturalOrder = new Intl.Collator(undefined, { numeric: true });

/** The index range [start, end) of rows a viewport shows, with `overscan` rows either side. */
export function viewportWindow(scrollTop: number, viewportHeight: number, rowHeight: number, rowCount: number, overscan = 10): { start: number; end: number } {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  return { start: Math.max(0, first - overscan), end: Math.min(rowCount, first + shown + overscan) };
}
