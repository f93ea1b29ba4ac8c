/**
 * `kubectl get` columns for configmaps, secrets and serviceaccounts, plus the Secret field
 * selector `type`.
 */
import type { FieldGetter, TableConvertor } from '../types.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col } from './format.ts';

const count = (v: unknown): number => (v && typeof v === 'object' ? Object.keys(v).length : 0);

export const configMapTable: TableConvertor = {
  columns: [NAME_COLUMN, col('Data', 'string', false, 'Data contains the configuration data.'), AGE_COLUMN],
  cells(cm, now) {
    return [cm.metadata.name, count(cm.data) + count(cm.binaryData), age(cm, now)];
  },
};

export const secretTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Type', 'string', false, 'Used to facilitate programmatic handling of secret data.'),
    col('Data', 'string', false, 'Data contains the secret data.'),
    AGE_COLUMN,
  ],
  cells(s, now) {
    // stringData is folded into data on write; count both in case a caller hands in raw input.
    const keys = new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]);
    return [s.metadata.name, s.type ?? 'Opaque', keys.size, age(s, now)];
  },
};

/** Secret fields selectable beyond metadata (SelectableFields in secret/strategy.go). */
export const secretFieldSelectors: Record<string, FieldGetter> = {
  type: (s) => s.type,
};

export const serviceAccountTable: TableConvertor = {
  columns: [NAME_COLUMN, col('Secrets', 'string', false, 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE_COLUMN],
  cells(sa, now) {
    return [sa.metadata.name, Array.isArray(sa.secrets) ? sa.secrets.length : 0, age(sa, now)];
  },
};
