/**
 * PriorityClass strategy (scheduling.k8s.io/v1; pkg/apis/scheduling/validation and
 * pkg/registry/scheduling/priorityclass): a class maps a name to the integer priority pods naming it
 * get (admission/priority.ts). User classes go up to 1,000,000,000; names starting `system-` are
 * the built-in classes only, with their fixed values; value and preemptionPolicy never change.
 * preemptionPolicy defaults to PreemptLowerPriority. The built-ins are created at every start
 * (server/bootstrap.ts) and cannot be deleted (admission/priority.ts refuses, as upstream's storage).
 */
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';

/** HighestUserDefinablePriority. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** SystemCriticalPriority: the value of system-cluster-critical. */
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
/** SystemPriorityClassPrefix: names reserved for the built-in classes. */
export const SYSTEM_PRIORITY_CLASS_PREFIX = 'system-';
/** The values PreemptionPolicy takes (core/v1). */
export const PREEMPTION_POLICIES = ['Never', 'PreemptLowerPriority'] as const;
/** What a pod gets when no class is the global default (DefaultPriorityWhenNoDefaultClassExists). */
export const DEFAULT_PRIORITY = 0;

/** The built-in classes every cluster has (scheduling.SystemPriorityClasses). */
export const SYSTEM_PRIORITY_CLASSES: readonly { name: string; value: number; description: string }[] = [
  { name: 'system-node-critical', value: SYSTEM_CRITICAL_PRIORITY + 1000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: SYSTEM_CRITICAL_PRIORITY, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];

/** The object of a built-in class, as the API server creates it. */
export function systemPriorityClassObject(name: string): KubeObject {
  const spc = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name)!;
  return {
    apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: spc.name },
    value: spc.value, description: spc.description, preemptionPolicy: 'PreemptLowerPriority',
  };
}

/** IsKnownSystemPriorityClass: undefined when `pc` is a built-in class as it must be, else why not. */
function systemClassError(pc: KubeObject): string | undefined {
  const spc = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === pc.metadata.name);
  if (!spc) return `${pc.metadata.name} is not a known system priority class`;
  if (spc.value !== pc.value) return `value of ${spc.name} PriorityClass must be ${spc.value}`;
  if (pc.globalDefault === true) return `globalDefault of ${spc.name} PriorityClass must be false`;
  return undefined;
}

function validatePriorityClass(pc: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const value = pc.value;
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    errs.push(fieldError.typeInvalid('value', value, 'must be a 32-bit integer'));
    return errs;
  }
  if (pc.globalDefault !== undefined && pc.globalDefault !== null && typeof pc.globalDefault !== 'boolean') {
    errs.push(fieldError.typeInvalid('globalDefault', pc.globalDefault, 'must be a boolean'));
  }
  if (String(pc.metadata.name ?? '').startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const why = systemClassError(pc);
    if (why) {
      errs.push(fieldError.forbidden('metadata.name', `priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${why}`));
    }
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(fieldError.forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  if (pc.preemptionPolicy !== undefined && pc.preemptionPolicy !== null && !PREEMPTION_POLICIES.includes(pc.preemptionPolicy)) {
    errs.push(fieldError.notSupported('preemptionPolicy', pc.preemptionPolicy, PREEMPTION_POLICIES));
  }
  if (pc.description !== undefined && pc.description !== null && typeof pc.description !== 'string') {
    errs.push(fieldError.typeInvalid('description', pc.description, 'must be a string'));
  }
  return errs;
}

export const priorityClassStrategy: Strategy = {
  defaults(pc) {
    // Go's zero value: a class written without a value has value 0.
    pc.value ??= 0;
    pc.preemptionPolicy ??= 'PreemptLowerPriority';
  },
  validate: validatePriorityClass,
  validateUpdate(pc, old) {
    const errs = validatePriorityClass(pc);
    if (pc.value !== old.value) errs.push(fieldError.forbidden('value', 'may not be changed in an update.'));
    if ((pc.preemptionPolicy ?? null) !== (old.preemptionPolicy ?? null)) errs.push(fieldError.immutable('preemptionPolicy', pc.preemptionPolicy ?? null));
    return errs;
  },
};
