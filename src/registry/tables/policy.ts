/**
 * `kubectl get poddisruptionbudgets` columns (printers.go printPodDisruptionBudget): MIN AVAILABLE and
 * MAX UNAVAILABLE as written (an int or a percentage; `N/A` when unset), ALLOWED DISRUPTIONS from the
 * status the disruption controller keeps, AGE.
 */
import type { TableConvertor } from '../types.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col, int } from './format.ts';

/** An IntOrString as its String(): the number or the percentage; `N/A` for a nil pointer. */
const intOrStringCell = (v: unknown): string => (v === undefined || v === null ? 'N/A' : String(v));

export const podDisruptionBudgetTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Min Available', 'string', false, 'The minimum number of pods that must be available.'),
    col('Max Unavailable', 'string', false, 'The maximum number of pods that may be unavailable.'),
    col('Allowed Disruptions', 'integer', false, 'Calculated number of pods that may be disrupted at this time.'),
    AGE_COLUMN,
  ],
  cells: (pdb, now) => [
    pdb.metadata.name, intOrStringCell(pdb.spec?.minAvailable), intOrStringCell(pdb.spec?.maxUnavailable),
    int(pdb.status?.disruptionsAllowed), age(pdb, now),
  ],
};
