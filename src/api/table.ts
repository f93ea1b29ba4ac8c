/**
 * Server-side printing: objects → meta.k8s.io/v1 Table, as `kubectl get` asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. Without a kind-specific convertor the
 * Table has NAME and AGE, like Kubernetes' default.
 */
import type { KubeObject } from '../apis/object.ts';
import type { TableColumn, TableConvertor } from '../registry/types.ts';
import { translateTimestampSince } from '../registry/tables/age.ts';

const DEFAULT: TableConvertor = {
  columns: [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
    { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
  ],
  cells: (o) => [o.metadata.name, o.metadata.creationTimestamp],
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** True when the Accept header asks for a Table (any of meta.k8s.io v1 / v1beta1). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => /;\s*as=Table/.test(part) && /g=meta\.k8s\.io/.test(part));
}

/** The apiVersion the client asked the Table in (v1 preferred). */
export function tableVersion(accept: string | undefined): string {
  const first = (accept ?? '').split(',').find((p) => /as=Table/.test(p)) ?? '';
  return /v=v1beta1/.test(first) ? 'meta.k8s.io/v1beta1' : 'meta.k8s.io/v1';
}

function rowObject(obj: KubeObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export interface TableOptions {
  convertor?: TableConvertor;
  include: IncludeObject;
  apiVersion: string;
  /** Omit column definitions (watch events after the first). */
  noHeaders?: boolean;
  resourceVersion?: string;
  continue?: string;
  /** The list's remainingItemCount, which upstream's asTable copies from the list (ListMeta). */
  remainingItemCount?: number;
}

export function toTable(objects: KubeObject[], opts: TableOptions): object {
  const conv = opts.convertor ?? DEFAULT;
  const now = new Date();
  const columns: TableColumn[] = opts.noHeaders ? [] : conv.columns.map((c) => ({ description: '', format: '', priority: 0, ...c }));
  const rows = objects.map((o) => {
    const row: Record<string, unknown> = { cells: conv === DEFAULT ? [o.metadata.name, translateTimestampSince(o.metadata.creationTimestamp, now)] : conv.cells(o, now) };
    const ro = rowObject(o, opts.include);
    if (ro !== undefined) row.object = ro;
    return row;
  });
  const metadata: Record<string, string | number> = {};
  if (opts.resourceVersion) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continue) metadata.continue = opts.continue;
  if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;
  return { kind: 'Table', apiVersion: opts.apiVersion, metadata, columnDefinitions: columns, rows };
}
