/**
 * Kubernetes' default table (apiserver rest.NewDefaultTableConvertor): NAME and CREATED AT, for kinds
 * whose printers print nothing more — CustomResourceDefinitions among them (`kubectl get crd`).
 */
import type { TableConvertor } from '../types.ts';
import { NAME_COLUMN } from './format.ts';

export const defaultTable: TableConvertor = {
  columns: [NAME_COLUMN, { name: 'Created At', type: 'date', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.', priority: 0 }],
  cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ''],
};
