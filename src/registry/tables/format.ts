/**
 * Cell helpers shared by the per-kind table convertors, after the helpers of Kubernetes'
 * pkg/printers/internalversion/printers.go.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { TableColumn } from '../types.ts';
import { translateTimestampSince } from './age.ts';

/** The NAME column every table but events starts with. */
export const NAME_COLUMN: TableColumn = {
  name: 'Name', type: 'string', format: 'name', priority: 0,
  description: 'Name must be unique within a namespace.',
};

/** The AGE column. */
export const AGE_COLUMN: TableColumn = {
  name: 'Age', type: 'string', format: '', priority: 0,
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
};

/** A column definition; `wide` columns show only with `-o wide` (priority 1). */
export function col(name: string, type: TableColumn['type'] = 'string', wide = false, description = ''): TableColumn {
  return { name, type, format: '', priority: wide ? 1 : 0, description };
}

/** The AGE cell of an object. */
export function age(obj: KubeObject, now: Date): string {
  return translateTimestampSince(obj.metadata?.creationTimestamp, now);
}

/** Containers' names and images, comma-joined (printers.go layoutContainerCells). */
export function containerCells(containers: unknown): [string, string] {
  const list = Array.isArray(containers) ? containers : [];
  return [list.map((c) => c?.name ?? '').join(','), list.map((c) => c?.image ?? '').join(',')];
}

/** labels.FormatLabels: `a=1,b=2` sorted by key, `<none>` when empty. */
export function formatLabels(labels: Record<string, string> | undefined | null): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels![k]}`).join(',');
}

/** printBoolPtr: `True`, `False`, or `<unset>`. */
export function boolPtr(v: unknown): string {
  if (typeof v !== 'boolean') return '<unset>';
  return v ? 'True' : 'False';
}

/** Integer cell value: numbers pass through, anything else is 0 (Go's zero value). */
export function int(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** String cell value: strings pass through, anything else is '' (Go's zero value). */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** A condition's status of the given type, if present. */
export function conditionStatus(conditions: unknown, type: string): string | undefined {
  if (!Array.isArray(conditions)) return undefined;
  return conditions.find((c) => c?.type === type)?.status;
}

/** `a,b,c + 2 more...` after the first `max` items, or `<unset>` when empty (listWithMoreString). */
export function listWithMore(items: string[], max = 3, empty = '<unset>'): string {
  if (items.length === 0) return empty;
  const shown = items.slice(0, max).join(',');
  return items.length > max ? `${shown} + ${items.length - max} more...` : shown;
}
