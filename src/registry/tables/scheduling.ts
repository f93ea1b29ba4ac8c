/**
 * `kubectl get priorityclasses` columns (printers.go printPriorityClass): VALUE, GLOBAL-DEFAULT, AGE
 * and PREEMPTIONPOLICY ('' when the class has none, as a nil pointer prints).
 */
import type { TableConvertor } from '../types.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col, int, str } from './format.ts';

export const priorityClassTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Value', 'integer', false, 'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.'),
    col('Global-Default', 'boolean', false, 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.'),
    AGE_COLUMN,
    col('PreemptionPolicy', 'string', false, 'preemptionPolicy is the Policy for preempting pods with lower priority.'),
  ],
  cells: (pc, now) => [pc.metadata.name, int(pc.value), pc.globalDefault === true, age(pc, now), str(pc.preemptionPolicy)],
};
